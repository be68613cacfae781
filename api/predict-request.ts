import { invalidRequest } from './json-body';

export const MAX_RECORDS_PER_REQUEST = 1000;

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The records API's body, `{"records": [{feature: value, …}, …]}`, checked by hand: it runs on every predict,
 * where zod's generic walk over every field of every record took ~6 % of the request's CPU. The features
 * themselves are checked against the served version's input schema (serving/validate-records).
 */
export function predictRecords(body: unknown): Record<string, unknown>[] {
  if (!isPlainObject(body)) throw invalidRequest('(body)', 'send a JSON object: {"records": [{"feature": value, …}]}');
  for (const key in body) {
    if (key !== 'records') throw invalidRequest('(body)', `Unrecognized key: "${key.slice(0, 80)}" (a predict body has only "records")`);
  }
  const { records } = body;
  if (!Array.isArray(records)) throw invalidRequest('records', records === undefined ? 'is required: send {"records": [{"feature": value, …}]}' : 'must be an array of records');
  if (records.length === 0) throw invalidRequest('records', 'send at least one record');
  if (records.length > MAX_RECORDS_PER_REQUEST) throw invalidRequest('records', `send at most ${MAX_RECORDS_PER_REQUEST} records per request`);
  for (let i = 0; i < records.length; i++) {
    if (!isPlainObject(records[i])) throw invalidRequest(`records[${i}]`, 'must be an object of feature values');
  }
  return records as Record<string, unknown>[];
}
