CREATE TABLE "feedback_labels" (
	"prediction_id" text PRIMARY KEY NOT NULL,
	"label" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "rollout" jsonb;--> statement-breakpoint
ALTER TABLE "predictions" ADD COLUMN "route" text DEFAULT 'stable' NOT NULL;--> statement-breakpoint
ALTER TABLE "predictions" ADD COLUMN "request_id" text;--> statement-breakpoint
ALTER TABLE "feedback_labels" ADD CONSTRAINT "feedback_labels_prediction_id_predictions_id_fk" FOREIGN KEY ("prediction_id") REFERENCES "public"."predictions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "predictions_version_time_idx" ON "predictions" USING btree ("model_version_id","created_at");