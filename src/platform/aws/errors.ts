import { createHash } from 'node:crypto';

/**
 * AWS errors as a user can act on them: what AWS refused, and what to change (the permission, the
 * key, the quota, the region). Whether to retry is the caller's to decide with `permanent`.
 */

interface AwsServiceError {
  name?: string;
  Code?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

const PERMISSION = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'UnauthorizedException']);
const CREDENTIALS = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException', 'ExpiredToken', 'ExpiredTokenException', 'InvalidAccessKeyId', 'AuthFailure', 'IncompleteSignature', 'MissingAuthenticationToken']);
const QUOTA = new Set(['LimitExceededException', 'LimitExceeded', 'TooManyHostedZones', 'ServiceQuotaExceededException', 'InstanceQuotaExceeded', 'StorageQuotaExceeded']);
const REGION = new Set(['OptInRequired', 'InvalidRegion', 'UnsupportedAvailabilityZoneException']);
/** Network errors finding an endpoint: a region that does not exist has none, and neither has any region while DNS is down. */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN']);

export class AwsProblem extends Error {
  override name = 'AwsProblem';
  /** Retrying will not help until someone changes something (permissions, keys, input). */
  readonly permanent: boolean;
  /** The AWS error code, when AWS answered. */
  readonly code: string | undefined;
  /**
   * What must change is outside threeport's objects (a permission, a quota, a key someone
   * rotates in IAM): worth trying again now and then, since nothing here will change to say so.
   */
  readonly fixedElsewhere: boolean;

  constructor(message: string, permanent: boolean, code?: string, fixedElsewhere = false) {
    super(message);
    this.permanent = permanent;
    this.code = code;
    this.fixedElsewhere = fixedElsewhere;
  }
}

/** The AWS error code of `error` (its name, as the SDK gives it), if it is one. */
export const awsErrorCode = (error: unknown): string | undefined => {
  const { name, Code } = (error ?? {}) as AwsServiceError;
  return Code ?? (name && name !== 'Error' ? name : undefined);
};

/** Says what `action` (e.g. "route53:CreateHostedZone") failed with, in the account named. */
export function awsProblem(error: unknown, action: string, account: string): AwsProblem {
  if (error instanceof AwsProblem) return error;
  const { message = String(error), $metadata, code: networkCode } = (error ?? {}) as AwsServiceError;
  const name = awsErrorCode(error) ?? 'Error';
  if (PERMISSION.has(name)) return new AwsProblem(`AWS account ${account} may not ${action}: give its credentials that permission (${message})`, true, name, true);
  if (CREDENTIALS.has(name)) return new AwsProblem(`AWS rejected the credentials of account ${account} (${name}): check its access key or role (${message})`, true, name, true);
  if (QUOTA.has(name) || /LimitExceeded$|QuotaExceeded$/.test(name)) return new AwsProblem(`AWS account ${account} reached a quota doing ${action}: raise it or free some (${message})`, true, name, true);
  if (REGION.has(name)) return new AwsProblem(`AWS ${action} is not available to account ${account} in that region (${name}): enable the region for the account or choose another (${message})`, true, name, true);
  if (networkCode && UNREACHABLE.has(networkCode)) {
    return new AwsProblem(`AWS ${action}: no endpoint answers for account ${account}'s region (${message}): check the region's name, and that the control plane can resolve AWS's names`, true, networkCode, true);
  }
  const status = $metadata?.httpStatusCode ?? (error as { $response?: { statusCode?: number } } | undefined)?.$response?.statusCode;
  // A 403 whose body the SDK could not read (an XML error from a JSON API, a proxy's page) is still AWS saying no.
  if (status === 403 && /Deserialization error|not valid JSON|Unexpected token/.test(message)) {
    return new AwsProblem(`AWS account ${account} may not ${action}: give its credentials that permission (AWS answered 403 Forbidden)`, true, 'AccessDenied', true);
  }
  const permanent = status !== undefined && status >= 400 && status < 500 && status !== 429 && !/Throttl|Conflict|PriorRequestNotComplete|InUse|DependencyViolation|InvalidState|Incorrect.*State/.test(name);
  return new AwsProblem(`AWS ${action} failed in account ${account}: ${name}: ${message}`, permanent, name);
}

/** Runs one AWS call, its failure said as `awsProblem` says it. */
export async function awsCall<T>(action: string, account: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw awsProblem(error, action, account);
  }
}

/** Whether `error` is AWS saying the thing is not there (so a delete has nothing left to do). */
export function isAwsNotFound(error: unknown): boolean {
  const code = error instanceof AwsProblem ? error.code : awsErrorCode(error);
  return code !== undefined && /NotFound|NoSuch|\.NotFound$|DoesNotExist|NotFoundFault$/.test(code);
}

/** For `.catch`: AWS saying the thing is not there gives undefined; any other failure goes on. */
export function absentAsUndefined(error: unknown): undefined {
  if (isAwsNotFound(error)) return undefined;
  throw error;
}

/**
 * For `.catch` on a delete AWS refuses while the resource is busy (being made, updated, backed
 * up: `busyCode`): gone already, or going (`deleting` is its status), is what was asked; busy is
 * said, and asked again on a later look.
 */
export const deletedUnlessBusy =
  (what: string, busyCode: string, deleting: string, statusOf: () => Promise<string | undefined>) =>
  async (error: unknown): Promise<undefined> => {
    if (isAwsNotFound(error)) return undefined;
    if (!(error instanceof AwsProblem && error.code === busyCode)) throw error;
    const status = await statusOf();
    if (status === undefined || status === deleting) return undefined;
    throw new AwsProblem(`${what} is ${status}: it is deleted once that is done`, false, busyCode);
  };

/** The calls of one service in one account, each failure said as `awsProblem` says it: `call('DescribeVpcs', run, (signal) => …)`. */
export const serviceCaller =
  (service: string, account: string) =>
  <T>(action: string, run: { readonly signal: AbortSignal | undefined }, send: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> =>
    awsCall(`${service}:${action}`, account, () => send(run.signal));

/** An idempotency token (client request token) AWS accepts: the same parts give the same token, at most 64 characters. */
export const clientToken = (...parts: readonly (string | number)[]): string => createHash('sha256').update(parts.join('\u0000')).digest('hex');
