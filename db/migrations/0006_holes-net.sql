ALTER TABLE "projects" ADD COLUMN "installation" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "attempt" integer DEFAULT 0 NOT NULL;