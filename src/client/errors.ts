/** What an API call can fail with, and the questions callers ask of such a failure. */

/**
 * An error answer from the API (or no answer at all: `status` 0). `reason` is the API's own word
 * for it (Status.reason: StaleVersion, NameTaken, …); the original's API sends none.
 */
export class ApiRequestError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  readonly method: string;
  readonly url: string;
  /** How long the API asked callers to wait (Retry-After), for 429 and 503. */
  readonly retryAfterMs: number | undefined;
  /** The caller's signal ended the request (shutdown, a lost lock, a time limit). */
  readonly aborted: boolean;

  constructor(status: number, message: string, details: { method: string; url: string; reason?: string; retryAfterMs?: number; aborted?: boolean }) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
    this.reason = details.reason;
    this.method = details.method;
    this.url = details.url;
    this.retryAfterMs = details.retryAfterMs;
    this.aborted = details.aborted ?? false;
  }
}

const answered = (error: unknown, status: number): boolean => error instanceof ApiRequestError && error.status === status;

export const isNotFound = (error: unknown): boolean => answered(error, 404);
export const isConflict = (error: unknown): boolean => answered(error, 409);
/** The object moved on since the version the writer sent. */
export const isStaleVersion = (error: unknown): boolean => isConflict(error) && (error as ApiRequestError).reason === 'StaleVersion';
/** Another object already has this name, or these unique values. */
export const isDuplicate = (error: unknown): boolean =>
  isConflict(error) && ['NameTaken', 'AlreadyExists'].includes((error as ApiRequestError).reason ?? '');
export const isBeingDeleted = (error: unknown): boolean => isConflict(error) && (error as ApiRequestError).reason === 'BeingDeleted';
/** The caller's own signal ended the call. */
export const isAborted = (error: unknown): boolean => error instanceof ApiRequestError && error.aborted;
/**
 * A failure a retry can fix: no answer, the API overloaded or failing (5xx, 429), or a write that
 * lost a race. Other 4xx answers say the request itself is wrong.
 */
export const isRetryableApiError = (error: unknown): boolean =>
  error instanceof ApiRequestError &&
  !error.aborted &&
  (error.status === 0 || error.status >= 500 || error.status === 429 || error.reason === 'StaleVersion' || error.reason === 'Contended');

/** Retry-After: seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
