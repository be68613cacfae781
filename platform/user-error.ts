/** HTTP statuses a user-caused error may carry. */
export type UserErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422;

/**
 * An error the user can fix: a stable machine-readable `code`, an HTTP status, and a sentence that says
 * what to change. `details` names the row, column or field when there is one.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: UserErrorStatus = 422,
    readonly details: Record<string, string | number> = {},
  ) {
    super(message);
  }
}
