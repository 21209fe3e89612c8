/**
 * The Kubernetes objects that make a workload reachable through a gateway, as the Gateway API and
 * cert-manager have them: a Gateway of threeport's class with a listener per port, an HTTPRoute
 * per HTTP port (or a redirect to HTTPS), a TCPRoute per TCP port, and for TLS an Issuer and the
 * Certificate its listeners serve. Pure: the same gateway gives the same objects.
 */
import { createHash } from 'node:crypto';
import type { HttpPort, TcpPort } from '../../model/gateway-addresses.ts';
import type { CertificateIssuer } from '../../model/certificate-issuer.ts';
import type { Manifest } from '../../model/manifest.ts';
import { GATEWAY_CLASS } from '../../model/support-services.ts';

export type { HttpPort, TcpPort };

export interface ServicePort {
  port: number;
  name?: string;
}


export interface GatewayPlan {
  /** Names the Gateway; the other objects are named after it. */
  name: string;
  namespace: string;
  /** `<subdomain>.<domain>`; absent when the gateway has no domain (then it answers any host). */
  host?: string;
  httpPorts: readonly HttpPort[];
  tcpPorts: readonly TcpPort[];
  service: { name: string; ports: readonly ServicePort[] };
  issuer: CertificateIssuer;
  /** The ACME account's contact (the domain's AdminEmail). */
  adminEmail?: string;
  labels: Record<string, string>;
}

export class GatewayProblem extends Error {
  override name = 'GatewayProblem';
}

const GATEWAY_API = 'gateway.networking.k8s.io';
const CERT_MANAGER = 'cert-manager.io/v1';

export const listenerName = (port: HttpPort | TcpPort, protocol: 'http' | 'tcp'): string =>
  protocol === 'http' ? `${port.tls ? 'https' : 'http'}-${port.port}` : `${port.tls ? 'tls' : 'tcp'}-${port.port}`;

export const tlsSecretName = (plan: Pick<GatewayPlan, 'name'>): string => `${plan.name}-tls`;

export function gatewayResources(plan: GatewayPlan): Manifest[] {
  const anyTls = plan.httpPorts.some((port) => port.tls) || plan.tcpPorts.some((port) => port.tls);
  if (anyTls && !plan.host) throw new GatewayProblem('TLS needs a domain name: set the gateway definition’s DomainNameDefinition');
  const meta = (name: string): Manifest['metadata'] => ({ name, namespace: plan.namespace, labels: { ...plan.labels } });
  const hostnames = plan.host ? { hostnames: [plan.host] } : {};
  const certificateRefs = { tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: tlsSecretName(plan) }] } };
  const parent = (sectionName: string): Record<string, unknown> => ({ group: GATEWAY_API, kind: 'Gateway', name: plan.name, sectionName });

  const listeners = [
    ...plan.httpPorts.map((port) => ({
      name: listenerName(port, 'http'),
      protocol: port.tls ? 'HTTPS' : 'HTTP',
      port: port.port,
      ...(plan.host && { hostname: plan.host }),
      ...(port.tls && certificateRefs),
      allowedRoutes: { namespaces: { from: 'Same' } },
    })),
    ...plan.tcpPorts.map((port) => ({
      name: listenerName(port, 'tcp'),
      protocol: port.tls ? 'TLS' : 'TCP',
      port: port.port,
      ...(port.tls && { ...(plan.host && { hostname: plan.host }), ...certificateRefs }),
      allowedRoutes: { namespaces: { from: 'Same' }, kinds: [{ group: GATEWAY_API, kind: 'TCPRoute' }] },
    })),
  ];
  if (listeners.length === 0) throw new GatewayProblem('the gateway definition has no ports: give it HttpPorts or TcpPorts');
  const gateway: Manifest = { apiVersion: `${GATEWAY_API}/v1`, kind: 'Gateway', metadata: meta(plan.name), spec: { gatewayClassName: GATEWAY_CLASS, listeners } };

  const httpsPort = plan.httpPorts.find((port) => port.tls)?.port;
  const httpRoutes = plan.httpPorts.map((port): Manifest => {
    const matches = [{ path: { type: 'PathPrefix', value: port.path } }];
    const rule = port.httpsRedirect
      ? { matches, filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301, ...(httpsPort && httpsPort !== 443 && { port: httpsPort }) } }] }
      : { matches, backendRefs: [{ name: plan.service.name, port: backendPort(plan.service, port.port, port.tls) }] };
    return { apiVersion: `${GATEWAY_API}/v1`, kind: 'HTTPRoute', metadata: meta(`${plan.name}-${port.port}`), spec: { parentRefs: [parent(listenerName(port, 'http'))], ...hostnames, rules: [rule] } };
  });
  const tcpRoutes = plan.tcpPorts.map((port): Manifest => ({
    apiVersion: `${GATEWAY_API}/v1alpha2`,
    kind: 'TCPRoute',
    // A TCPRoute has no hostnames: external-dns takes the name from this annotation.
    metadata: { ...meta(`${plan.name}-${port.port}`), ...(plan.host && { annotations: { 'external-dns.alpha.kubernetes.io/hostname': plan.host } }) },
    spec: { parentRefs: [parent(listenerName(port, 'tcp'))], rules: [{ backendRefs: [{ name: plan.service.name, port: backendPort(plan.service, port.port, false) }] }] },
  }));

  return [gateway, ...httpRoutes, ...tcpRoutes, ...(anyTls ? certificateResources(plan) : [])];
}

function certificateResources(plan: GatewayPlan): Manifest[] {
  const meta = (name: string): Manifest['metadata'] => ({ name, namespace: plan.namespace, labels: { ...plan.labels } });
  let issuerSpec: Record<string, unknown>;
  if (plan.issuer.kind === 'self-signed') {
    issuerSpec = { selfSigned: {} };
  } else {
    // HTTP-01 through the gateway's plain HTTP listener: no DNS credentials needed in the cluster.
    const http = plan.httpPorts.find((port) => !port.tls);
    if (!http) throw new GatewayProblem('TLS certificates from an ACME server need a plain HTTP port on the gateway for the HTTP-01 challenge: add an HTTP port 80 (HTTPSRedirect: true keeps users on HTTPS)');
    if (!plan.adminEmail) throw new GatewayProblem('an ACME account needs a contact: set the domain name definition’s AdminEmail');
    issuerSpec = {
      acme: {
        server: plan.issuer.server,
        email: plan.adminEmail,
        privateKeySecretRef: { name: `${plan.name}-acme-account` },
        solvers: [{ http01: { gatewayHTTPRoute: { parentRefs: [{ group: GATEWAY_API, kind: 'Gateway', name: plan.name, namespace: plan.namespace, sectionName: listenerName(http, 'http') }] } } }],
      },
    };
  }
  return [
    { apiVersion: CERT_MANAGER, kind: 'Issuer', metadata: meta(plan.name), spec: issuerSpec },
    { apiVersion: CERT_MANAGER, kind: 'Certificate', metadata: meta(plan.name), spec: { secretName: tlsSecretName(plan), dnsNames: [plan.host], issuerRef: { kind: 'Issuer', name: plan.name } } },
  ];
}

/**
 * The Service port a gateway port sends to: the one of the same number, else the Service's only
 * port, else (for TLS, which the gateway terminates) port 80.
 */
export function backendPort(service: GatewayPlan['service'], gatewayPort: number, tls: boolean): number {
  const ports = service.ports.map((port) => port.port);
  if (ports.includes(gatewayPort)) return gatewayPort;
  if (ports.length === 1) return ports[0]!;
  if (tls && ports.includes(80)) return 80;
  throw new GatewayProblem(
    ports.length === 0
      ? `Service ${service.name} has no ports`
      : `Service ${service.name} has ports ${ports.join(', ')}: none is ${gatewayPort}${tls ? ' or 80' : ''}, so the gateway cannot tell where port ${gatewayPort} should go; give the Service a port ${gatewayPort}`,
  );
}

/**
 * A Kubernetes name for a gateway's objects: the instance's name made valid, with a suffix from its
 * ID (two instances whose names differ only in punctuation or past the cut never share objects).
 * Room is left for `-<port>` and `-acme-account`.
 */
export function gatewayObjectName(instance: { id: number; name: string }): string {
  const base = instance.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 33).replace(/-+$/, '') || 'gateway';
  return `${base}-${createHash('sha256').update(String(instance.id)).digest('hex').slice(0, 6)}`;
}
