import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/**
 * Adds the Keyword search attributes a namespace lacks. Without them every workflow start that sets them
 * fails, so a server that refuses (Temporal Cloud API keys may) gets one error that says how to add them.
 */
export async function ensureKeywordSearchAttributes(connection: Connection, namespace: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  let existing: Record<string, unknown>;
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch {
    // A server that does not let this client list them (some Temporal Cloud keys) is trusted to have them.
    return;
  }
  const missing = names.filter((name) => !existing[name]);
  if (missing.length === 0) return;
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((name) => [name, keyword])) });
  } catch (err) {
    const how = missing.map((name) => `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type Keyword`).join(' && ');
    throw new Error(`The Temporal namespace "${namespace}" lacks the search attributes ${missing.join(', ')} and they could not be added (${err instanceof Error ? err.message : String(err)}); add them with: ${how}`);
  }
}
