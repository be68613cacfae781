CREATE TABLE "served_routes" (
	"instance_id" text NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"endpoint_id" text NOT NULL,
	"route" text NOT NULL,
	"version_id" text,
	"wanted_version_id" text,
	"load_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "served_routes_instance_id_endpoint_id_route_pk" PRIMARY KEY("instance_id","endpoint_id","route")
);
--> statement-breakpoint
ALTER TABLE "served_routes" ADD CONSTRAINT "served_routes_endpoint_id_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "served_routes_endpoint_idx" ON "served_routes" USING btree ("endpoint_id");