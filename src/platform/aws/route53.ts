/**
 * Route53 hosted zones for the domains threeport publishes workloads under: found by name, or
 * created (public zones) with a caller reference derived from the caller's key, so a retry after
 * a crash finds the zone it made instead of making a second.
 */
import { CreateHostedZoneCommand, ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import { awsProblem, AwsProblem } from './errors.ts';
import { credentialsOf, type AwsAccountAccess } from './credentials.ts';

export interface HostedZone {
  id: string;
  name: string;
  private: boolean;
  /** Whether this call made it. */
  created: boolean;
  /** The servers to delegate the domain to (for a zone just made). */
  nameServers: string[];
}

export type ZoneType = 'Public' | 'Private';

export function route53Of(access: AwsAccountAccess): Route53Client {
  const credentials = credentialsOf(access);
  return new Route53Client({ region: access.region, retryMode: 'standard', ...(credentials && { credentials }) });
}


const fqdn = (domain: string): string => `${domain.replace(/\.$/, '').toLowerCase()}.`;

/** The hosted zone of `domain`, made when there is none (public zones only: a private one needs its VPC). */
export async function ensureHostedZone(
  route53: Route53Client,
  account: string,
  request: { domain: string; type: ZoneType; reference: string },
  signal?: AbortSignal,
): Promise<HostedZone> {
  const name = fqdn(request.domain);
  const wantPrivate = request.type === 'Private';
  const existing = await findZone(route53, account, name, wantPrivate, signal);
  if (existing) return existing;
  if (wantPrivate) throw new AwsProblem(`AWS account ${account} has no private hosted zone ${name}: create it with the VPCs that should resolve it (threeport makes public zones only)`, true);
  try {
    const made = await route53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: request.reference, HostedZoneConfig: { Comment: 'made by threeport', PrivateZone: false } }), { abortSignal: signal });
    return { id: zoneId(made.HostedZone?.Id), name, private: false, created: true, nameServers: made.DelegationSet?.NameServers ?? [] };
  } catch (error) {
    // Made meanwhile by another reconcile with the same reference (a retry, another replica): it is the one.
    const raced = (error as { name?: string }).name === 'HostedZoneAlreadyExists' ? await findZone(route53, account, name, false, signal) : undefined;
    if (raced) return raced;
    throw awsProblem(error, 'route53:CreateHostedZone', account);
  }
}

async function findZone(route53: Route53Client, account: string, name: string, wantPrivate: boolean, signal: AbortSignal | undefined): Promise<HostedZone | undefined> {
  const found = await route53.send(new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 10 }), { abortSignal: signal }).catch((error: unknown) => {
    throw awsProblem(error, 'route53:ListHostedZonesByName', account);
  });
  const zones = (found.HostedZones ?? []).filter((zone) => zone.Name?.toLowerCase() === name && Boolean(zone.Config?.PrivateZone) === wantPrivate);
  if (zones.length > 1) throw new AwsProblem(`AWS account ${account} has ${zones.length} ${wantPrivate ? 'private' : 'public'} hosted zones named ${name}: delete all but one`, true);
  return zones[0] && { id: zoneId(zones[0].Id), name, private: wantPrivate, created: false, nameServers: [] };
}

const zoneId = (id: string | undefined): string => String(id ?? '').replace(/^\/hostedzone\//, '');
