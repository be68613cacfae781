import type { ModelInputSchema, ModelOutputSchema } from '../db/schema/models';

/** A model version as the data plane needs it: what to load, what it reads, what it answers. */
export interface ServedVersion {
  id: string;
  model: string;
  version: number;
  onnxUri: string;
  inputSchema: ModelInputSchema;
  outputSchema: ModelOutputSchema;
}

/** `<model>:<version>`, the `version` label of serving metrics. */
export function versionLabel(version: Pick<ServedVersion, 'model' | 'version'>): string {
  return `${version.model}:${version.version}`;
}
