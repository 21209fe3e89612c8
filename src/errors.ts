/**
 * The one error catalogue. Anything thrown to a user is an ApiError with an HTTP status and a
 * message that explains what to do; everything else is a 500 whose details stay in the log.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'TP_ERR_BAD_REQUEST', message);
export const notFound = (message = 'record not found'): ApiError => new ApiError(404, 'TP_ERR_NOT_FOUND', message);
export const conflict = (message: string): ApiError => new ApiError(409, 'TP_ERR_CONFLICT', message);
export const staleVersion = (id: number, expected: number, actual: number): ApiError =>
  new ApiError(409, 'TP_ERR_STALE_VERSION', `object with ID ${id} is at version ${actual}, not ${expected}: re-read it and retry`);
export const unavailable = (message: string): ApiError => new ApiError(503, 'TP_ERR_UNAVAILABLE', message);

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;
