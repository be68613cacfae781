ALTER TABLE "retrain_runs" DROP CONSTRAINT "retrain_runs_model_episode_uq";--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "split" jsonb;--> statement-breakpoint
ALTER TABLE "retrain_runs" ADD COLUMN "attempt" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "retrain_runs" ADD COLUMN "max_attempts" integer DEFAULT 3 NOT NULL;--> statement-breakpoint
ALTER TABLE "retrain_runs" ADD COLUMN "backoff_seconds" integer DEFAULT 600 NOT NULL;--> statement-breakpoint
ALTER TABLE "retrain_runs" ADD COLUMN "retry_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "retrain_runs" ADD CONSTRAINT "retrain_runs_model_episode_attempt_uq" UNIQUE("model_id","episode","attempt");