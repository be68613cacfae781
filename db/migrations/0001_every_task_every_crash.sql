CREATE TABLE "model_alias_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"alias" text NOT NULL,
	"from_version_id" text,
	"to_version_id" text NOT NULL,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"workflow_id" text,
	"idempotency_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_alias_events_idempotency_key_unique" UNIQUE("idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"project_id" text NOT NULL,
	"key" text NOT NULL,
	"route" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer,
	"response" json,
	"workflow_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "idempotency_keys_project_id_key_pk" PRIMARY KEY("project_id","key")
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"url" text NOT NULL,
	"events" jsonb NOT NULL,
	"secret" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "training_runs" ALTER COLUMN "classes" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "task" text DEFAULT 'classification' NOT NULL;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "task_reason" text;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "blessing" jsonb;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "failure_cause" jsonb;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "lineage" jsonb;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "failure" text;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "failure_cause" jsonb;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "failed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "approval" jsonb;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "failure" text;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "failure_cause" jsonb;--> statement-breakpoint
ALTER TABLE "model_alias_events" ADD CONSTRAINT "model_alias_events_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_alias_events" ADD CONSTRAINT "model_alias_events_from_version_id_model_versions_id_fk" FOREIGN KEY ("from_version_id") REFERENCES "public"."model_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_alias_events" ADD CONSTRAINT "model_alias_events_to_version_id_model_versions_id_fk" FOREIGN KEY ("to_version_id") REFERENCES "public"."model_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_alias_events_alias_idx" ON "model_alias_events" USING btree ("model_id","alias","id");--> statement-breakpoint
CREATE INDEX "webhooks_project_idx" ON "webhooks" USING btree ("project_id");