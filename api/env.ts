import type { ApiKeyRole } from '../db/schema';

export interface AuthContext {
  projectId: string;
  keyId: string;
  /** The person or service the key belongs to. */
  owner: string;
  role: ApiKeyRole;
}

/** Hono's typed context for every authenticated route. */
export interface ApiEnv {
  Variables: { auth: AuthContext };
}
