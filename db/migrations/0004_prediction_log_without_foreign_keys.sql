ALTER TABLE "predictions" DROP CONSTRAINT "predictions_endpoint_id_endpoints_id_fk";
--> statement-breakpoint
ALTER TABLE "predictions" DROP CONSTRAINT "predictions_model_version_id_model_versions_id_fk";
