import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

/** Keyword search attributes every factory workflow carries, so the API and the Temporal UI can filter by them. */
export const FactoryProject = defineSearchAttributeKey('FactoryProject', SearchAttributeType.KEYWORD);
export const FactoryDataset = defineSearchAttributeKey('FactoryDataset', SearchAttributeType.KEYWORD);
export const FactoryModel = defineSearchAttributeKey('FactoryModel', SearchAttributeType.KEYWORD);
export const FactoryEndpoint = defineSearchAttributeKey('FactoryEndpoint', SearchAttributeType.KEYWORD);

/** Every key, for registering them on a Temporal server (`temporal operator search-attribute create`). */
export const FACTORY_SEARCH_ATTRIBUTES = [FactoryProject, FactoryDataset, FactoryModel, FactoryEndpoint] as const;

/** The search attributes of a workflow started for this project, naming what it works on. */
export function factorySearchAttributes(on: { projectId: string; dataset?: string; model?: string; endpoint?: string }): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [{ key: FactoryProject, value: on.projectId }];
  if (on.dataset) pairs.push({ key: FactoryDataset, value: on.dataset });
  if (on.model) pairs.push({ key: FactoryModel, value: on.model });
  if (on.endpoint) pairs.push({ key: FactoryEndpoint, value: on.endpoint });
  return pairs;
}
