CREATE TABLE "feedback_labels" (
	"prediction_id" text PRIMARY KEY NOT NULL,
	"label" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "drift_reports" (
	"id" text PRIMARY KEY NOT NULL,
	"endpoint_id" text NOT NULL,
	"model_version_id" text NOT NULL,
	"window_from" timestamp with time zone NOT NULL,
	"window_to" timestamp with time zone NOT NULL,
	"report" jsonb NOT NULL,
	"drifted" boolean NOT NULL,
	"workflow_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "drift_reports_workflow_version_uq" UNIQUE("workflow_id","model_version_id")
);
--> statement-breakpoint
CREATE TABLE "endpoint_monitoring" (
	"endpoint_id" text PRIMARY KEY NOT NULL,
	"thresholds" jsonb NOT NULL,
	"retrain" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "rollout" jsonb;--> statement-breakpoint
ALTER TABLE "predictions" ADD COLUMN "route" text DEFAULT 'stable' NOT NULL;--> statement-breakpoint
ALTER TABLE "predictions" ADD COLUMN "request_id" text;--> statement-breakpoint
ALTER TABLE "feedback_labels" ADD CONSTRAINT "feedback_labels_prediction_id_predictions_id_fk" FOREIGN KEY ("prediction_id") REFERENCES "public"."predictions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_reports" ADD CONSTRAINT "drift_reports_endpoint_id_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."endpoints"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_reports" ADD CONSTRAINT "drift_reports_model_version_id_model_versions_id_fk" FOREIGN KEY ("model_version_id") REFERENCES "public"."model_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "endpoint_monitoring" ADD CONSTRAINT "endpoint_monitoring_endpoint_id_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."endpoints"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "drift_reports_endpoint_window_idx" ON "drift_reports" USING btree ("endpoint_id","window_to");--> statement-breakpoint
CREATE INDEX "predictions_version_time_idx" ON "predictions" USING btree ("model_version_id","created_at");