ALTER TABLE "api_keys" ADD COLUMN "owner" text;--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "infra_validation" jsonb;--> statement-breakpoint
-- hand-written: keys issued before owners existed each become their own principal, then owner is required.
UPDATE "api_keys" SET "owner" = 'key:' || "id" WHERE "owner" IS NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ALTER COLUMN "owner" SET NOT NULL;
