/**
 * The support services threeport installs into a runtime on first use, as Helm releases of
 * pinned chart versions (the versions tested with this release of threeport). Each is a
 * HelmWorkloadDefinition named `threeport-<service>` holding the pins and the values every
 * runtime gets, with one HelmWorkloadInstance per runtime; raising a pin here upgrades every
 * runtime's release on the next reconcile of what uses it.
 */

export interface SupportService {
  /** What it gives the workloads. */
  description: string;
  /** The chart's upstream repository (a chart mirror, when configured, is used instead). */
  repository: string;
  chart: string;
  version: string;
  /** The namespace its release goes into on every runtime. */
  namespace: string;
}

export const supportServices = {
  gateway: {
    description: 'Ingress through the Gateway API: its CRDs and Envoy Gateway',
    repository: 'oci://docker.io/envoyproxy',
    chart: 'gateway-helm',
    version: 'v1.9.0',
    namespace: 'threeport-gateway',
  },
  'cert-manager': {
    description: 'TLS certificates (cert-manager)',
    repository: 'https://charts.jetstack.io',
    chart: 'cert-manager',
    version: 'v1.21.1',
    namespace: 'threeport-cert-manager',
  },
  'external-dns': {
    description: 'DNS records for the gateways’ hostnames (external-dns)',
    repository: 'https://kubernetes-sigs.github.io/external-dns',
    chart: 'external-dns',
    version: '1.21.1',
    namespace: 'threeport-external-dns',
  },
  'external-secrets': {
    description: 'Secrets synced from cloud secret stores (External Secrets Operator)',
    repository: 'https://charts.external-secrets.io',
    chart: 'external-secrets',
    version: '2.9.0',
    namespace: 'threeport-external-secrets',
  },
} as const satisfies Record<string, SupportService>;

export type SupportServiceName = keyof typeof supportServices;

const DEFINITION_PREFIX = 'threeport-';

/** The HelmWorkloadDefinition that holds a support service's pins and common values. */
export const supportServiceDefinitionName = (service: SupportServiceName): string => `${DEFINITION_PREFIX}${service}`;

/** The support service a HelmWorkloadDefinition is, by its name; undefined for a user's own. */
export function supportServiceOf(definitionName: string): SupportServiceName | undefined {
  if (!definitionName.startsWith(DEFINITION_PREFIX)) return undefined;
  const service = definitionName.slice(DEFINITION_PREFIX.length);
  return service in supportServices ? (service as SupportServiceName) : undefined;
}

/** The GatewayClass threeport's gateways use (Envoy Gateway, every Gateway of it merged into one proxy per cluster). */
export const GATEWAY_CLASS = 'threeport';
