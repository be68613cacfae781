CREATE TABLE "model_policies" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"model_id" text NOT NULL,
	"scope" text NOT NULL,
	"version" integer NOT NULL,
	"policy" jsonb NOT NULL,
	"changed_by" text NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_policies_scope_version_uq" UNIQUE("model_id","scope","version")
);
--> statement-breakpoint
ALTER TABLE "model_policies" ADD CONSTRAINT "model_policies_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_policies" ADD CONSTRAINT "model_policies_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_policies_model_idx" ON "model_policies" USING btree ("model_id","scope");