ALTER TABLE "training_runs" ADD COLUMN "failure_cause" jsonb;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "failure" text;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "failure_cause" jsonb;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "failed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "failure" text;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "failure_cause" jsonb;