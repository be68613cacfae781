ALTER TABLE "training_runs" ALTER COLUMN "classes" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "task" text DEFAULT 'classification' NOT NULL;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "task_reason" text;