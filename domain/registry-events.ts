/** What happens in the registry (and, for drift and retrains, on an endpoint) that a project's webhooks can hear about. */
export const REGISTRY_EVENT_TYPES = [
  'model_version.created',
  'model_version.blessed',
  'model_version.rejected',
  'promotion.approved',
  'promotion.rejected',
  'model_alias.promoted',
  'endpoint.drift_detected',
  'retrain.failed',
] as const;
export type RegistryEventType = (typeof REGISTRY_EVENT_TYPES)[number];

/** One registry event, small enough for a workflow payload; its id names its delivery workflow, so it is sent once. */
export interface RegistryEvent {
  /** Unique and deterministic, e.g. `model_version.created:<model version id>`. */
  id: string;
  type: RegistryEventType;
  projectId: string;
  /** ISO time, from the emitting workflow's clock. */
  occurredAt: string;
  model: { name: string; version?: number; versionId?: string };
  /** Event-specific facts: reasons, alias, from/to version, who decided and why. */
  data: Record<string, unknown>;
}
