/** Failures talking to a Kubernetes API server, with the server's own message. */

export interface KubernetesStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { message?: string; field?: string; reason?: string }[] };
}

/** The API server answered with an error (`status` > 0), or could not be reached (`status` 0). */
export class KubernetesApiError extends Error {
  readonly status: number;
  /** The server's reason: NotFound, AlreadyExists, Conflict, Invalid, Forbidden, Gone, … */
  readonly reason: string | undefined;
  readonly causes: readonly { message?: string; field?: string }[];

  constructor(status: number, message: string, details: { reason?: string; causes?: { message?: string; field?: string }[]; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'KubernetesApiError';
    this.status = status;
    this.reason = details.reason;
    this.causes = details.causes ?? [];
  }
}

const has = (error: unknown, status: number): boolean => error instanceof KubernetesApiError && error.status === status;
export const isKubernetesNotFound = (error: unknown): boolean => has(error, 404);
export const isKubernetesConflict = (error: unknown): boolean => has(error, 409);
/** A watch's resourceVersion is too old: list again. */
export const isKubernetesGone = (error: unknown): boolean => has(error, 410);
/** Worth trying again: no answer, the server overloaded or failing. */
export const isKubernetesTransient = (error: unknown): boolean =>
  error instanceof KubernetesApiError && (error.status === 0 || error.status === 429 || error.status >= 500);

/** The server's message for a Status body, with its causes (what a person needs to fix the manifest). */
export function statusMessage(status: KubernetesStatus | undefined, fallback: string): string {
  const base = status?.message || fallback;
  const causes = (status?.details?.causes ?? []).map((cause) => cause.message).filter((message): message is string => Boolean(message) && !base.includes(message!));
  return causes.length > 0 ? `${base} (${causes.join('; ')})` : base;
}
