ALTER TABLE "training_runs" ALTER COLUMN "classes" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "task" text DEFAULT 'classification' NOT NULL;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "task_reason" text;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "failure_cause" jsonb;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "failure" text;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "failure_cause" jsonb;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "failed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "failure" text;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "failure_cause" jsonb;