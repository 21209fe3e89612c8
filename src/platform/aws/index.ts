export { credentialsOf, type AwsAccountAccess, type AwsCredentials } from './credentials.ts';
export { awsProblem, AwsProblem } from './errors.ts';
export { ensureHostedZone, route53Endpoint, route53Of, type HostedZone, type ZoneType } from './route53.ts';
