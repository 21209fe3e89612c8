/**
 * The one error catalogue. Anything thrown to a user is an ApiError with an HTTP status, a reason
 * a program can branch on (sent in the error envelope's Status.reason), and a message that
 * explains what to do; everything else is a 500 whose details stay in the log.
 */
export type ErrorReason =
  | 'BadRequest'
  | 'NotFound'
  /** Another object of the kind has this name. */
  | 'NameTaken'
  /** Another object has the same unique values (a natural key). */
  | 'AlreadyExists'
  /** The object is at another version than the writer expected: re-read and retry. */
  | 'StaleVersion'
  /** The object was changed by others so often that the write gave up; retry. */
  | 'Contended'
  | 'BeingDeleted'
  /** Other objects depend on this one. */
  | 'StillReferenced'
  | 'Conflict'
  | 'Unavailable'
  /** No credentials, or credentials this control plane does not accept. */
  | 'Unauthenticated'
  /** The caller's roles do not allow this; the message names the permission. */
  | 'Forbidden'
  | 'Internal';

export class ApiError extends Error {
  readonly status: number;
  readonly reason: ErrorReason;

  constructor(status: number, reason: ErrorReason, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);
export const notFound = (message = 'record not found'): ApiError => new ApiError(404, 'NotFound', message);
export const conflict = (message: string, reason: ErrorReason = 'Conflict'): ApiError => new ApiError(409, reason, message);
export const staleVersion = (id: number, expected: number, actual: number): ApiError =>
  new ApiError(409, 'StaleVersion', `object with ID ${id} is at version ${actual}, not ${expected}: re-read it and retry`);
export const unauthenticated = (message: string): ApiError => new ApiError(401, 'Unauthenticated', message);
export const forbidden = (message: string): ApiError => new ApiError(403, 'Forbidden', message);
export const unavailable = (message: string): ApiError => new ApiError(503, 'Unavailable', message);

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;
