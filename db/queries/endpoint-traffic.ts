import { and, eq, inArray, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { endpoints, models, modelVersions, projects } from '../schema';
import type { ModelInputSchema, ModelOutputSchema } from '../schema/models';
import type { EndpointRolloutSummary } from '../../domain/rollout';

export interface TrafficVersionRow {
  id: string;
  model: string;
  version: number;
  onnxUri: string;
  inputSchema: ModelInputSchema;
  outputSchema: ModelOutputSchema;
}

/** An endpoint's traffic as the data plane loads it: the row, its project's name and the versions it routes to. */
export interface EndpointTrafficRow {
  id: string;
  projectId: string;
  projectName: string;
  name: string;
  stable: TrafficVersionRow | null;
  canary: TrafficVersionRow | null;
  canaryWeight: number;
  shadow: TrafficVersionRow | null;
  rollout: EndpointRolloutSummary | null;
  updatedAt: Date;
}

/** One endpoint's traffic, by id or by project and name; undefined when there is no such endpoint. */
export async function readEndpointTraffic(db: Db, which: { id: string } | { projectId: string; name: string }): Promise<EndpointTrafficRow | undefined> {
  const where: SQL | undefined = 'id' in which ? eq(endpoints.id, which.id) : and(eq(endpoints.projectId, which.projectId), eq(endpoints.name, which.name));
  const [row] = await db
    .select({ endpoint: endpoints, projectName: projects.name })
    .from(endpoints)
    .innerJoin(projects, eq(projects.id, endpoints.projectId))
    .where(where);
  if (!row) return undefined;
  const { endpoint } = row;
  const ids = [endpoint.stableVersionId, endpoint.canaryVersionId, endpoint.shadowVersionId].filter((id): id is string => id !== null);
  const versions =
    ids.length === 0
      ? []
      : await db
          .select({
            id: modelVersions.id,
            model: models.name,
            version: modelVersions.version,
            onnxUri: modelVersions.onnxUri,
            inputSchema: modelVersions.inputSchema,
            outputSchema: modelVersions.outputSchema,
          })
          .from(modelVersions)
          .innerJoin(models, eq(models.id, modelVersions.modelId))
          .where(inArray(modelVersions.id, ids));
  const byId = (id: string | null): TrafficVersionRow | null => versions.find((v) => v.id === id) ?? null;
  return {
    id: endpoint.id,
    projectId: endpoint.projectId,
    projectName: row.projectName,
    name: endpoint.name,
    stable: byId(endpoint.stableVersionId),
    canary: byId(endpoint.canaryVersionId),
    canaryWeight: endpoint.canaryWeight,
    shadow: byId(endpoint.shadowVersionId),
    rollout: endpoint.rollout,
    updatedAt: endpoint.updatedAt,
  };
}

/** Every endpoint's id, key and last change: what the routing table's poll compares. */
export async function listEndpointChanges(db: Db): Promise<{ id: string; projectId: string; name: string; updatedAt: Date }[]> {
  return db.select({ id: endpoints.id, projectId: endpoints.projectId, name: endpoints.name, updatedAt: endpoints.updatedAt }).from(endpoints);
}
