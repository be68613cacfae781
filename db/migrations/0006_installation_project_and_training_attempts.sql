ALTER TABLE "projects" ADD COLUMN "installation" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "attempt_scheduled_at" timestamp with time zone;