/**
 * AWS errors as a user can act on them: what AWS refused, and what to change (the permission, the
 * key, the quota). Whether to retry is the caller's to decide with `isPermanentAwsError`.
 */

interface AwsServiceError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const PERMISSION = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const CREDENTIALS = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException', 'ExpiredToken', 'InvalidAccessKeyId']);
const QUOTA = new Set(['LimitExceededException', 'TooManyHostedZones', 'ServiceQuotaExceededException']);

export class AwsProblem extends Error {
  override name = 'AwsProblem';
  /** Retrying will not help until someone changes something (permissions, keys, input). */
  readonly permanent: boolean;

  constructor(message: string, permanent: boolean) {
    super(message);
    this.permanent = permanent;
  }
}

/** Says what `action` (e.g. "route53:CreateHostedZone") failed with, in the account named. */
export function awsProblem(error: unknown, action: string, account: string): AwsProblem {
  const { name = 'Error', message = String(error), $metadata } = (error ?? {}) as AwsServiceError;
  if (PERMISSION.has(name)) return new AwsProblem(`AWS account ${account} may not ${action}: give its credentials that permission (${message})`, true);
  if (CREDENTIALS.has(name)) return new AwsProblem(`AWS rejected the credentials of account ${account} (${name}): check its access key or role (${message})`, true);
  if (QUOTA.has(name)) return new AwsProblem(`AWS account ${account} reached a quota doing ${action}: raise it or free some (${message})`, true);
  const status = $metadata?.httpStatusCode;
  const permanent = status !== undefined && status >= 400 && status < 500 && status !== 429 && !/Throttl|Conflict|PriorRequestNotComplete/.test(name);
  return new AwsProblem(`AWS ${action} failed in account ${account}: ${name}: ${message}`, permanent);
}
