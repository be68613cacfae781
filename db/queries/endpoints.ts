import { sql } from 'drizzle-orm';
import type { Db } from '../client';

/** The channel the data plane LISTENs on; the payload is the endpoint id. */
export const ENDPOINT_CHANGED_CHANNEL = 'factory_endpoint_changed';

type Executor = Pick<Db, 'execute'>;

/**
 * Tells every inference server that an endpoint's traffic changed. Sent inside the transaction that made
 * the change, PostgreSQL delivers it only on commit, so a server never reloads a change that rolled back.
 */
export async function notifyEndpointChanged(tx: Executor, endpointId: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${ENDPOINT_CHANGED_CHANNEL}, ${endpointId})`);
}
