/**
 * What threeport sets in each support service's chart, and why it differs from the chart's
 * defaults. The common values (the same on every runtime) are the definition's ValuesDocument, kept
 * as written here, comments included, so `tptctl describe helm-workload-definition` shows the why;
 * what depends on the runtime is the instance's.
 */
import type { Manifest } from '../../model/manifest.ts';
import { GATEWAY_CLASS, supportServices, type SupportServiceName } from '../../model/support-services.ts';
import type { Values } from '../../platform/helm/index.ts';
import { accountKeysEnv } from './account-keys.ts';

export const commonValues: Record<SupportServiceName, string> = {
  gateway: `# Envoy Gateway with the chart's defaults: its CRDs (Envoy Gateway's and the Gateway API's
# experimental channel, which has TCPRoute) come in the chart's crds/ folder.
# threeport's GatewayClass and its EnvoyProxy are the release's additional resources.
{}
`,
  'cert-manager': `crds:
  # The chart leaves its CRDs out by default; threeport installs them with the release.
  enabled: true
  # Kept when the release is uninstalled, so the workloads' certificates survive a reinstall.
  keep: true
# A certificate's Secret (its private key) goes when the certificate does: deleting a gateway
# leaves no key behind (the chart's default keeps them).
enableCertificateOwnerRef: true
config:
  apiVersion: controller.config.cert-manager.io/v1alpha1
  kind: ControllerConfiguration
  # ACME HTTP-01 challenges are answered through the gateways' HTTPRoutes (gatewayHTTPRoute solvers).
  enableGatewayAPI: true
`,
  'external-dns': `provider:
  name: aws
# The hostnames threeport's gateways serve: their HTTPRoutes and TCPRoutes (the chart's default
# watches Services and Ingresses only).
sources:
  - gateway-httproute
  - gateway-tcproute
# Records of routes that go away are removed too (the chart's default only adds). Only records
# this runtime's external-dns made are touched: they carry its TXT owner id.
policy: sync
registry: txt
`,
  'external-secrets': `# The operator's CRDs (external-secrets.io/v1) are part of the release: upgraded with it.
installCRDs: true
# One controller per cluster syncs every secret instance's ExternalSecret.
replicaCount: 1
`,
};

/** The objects the release brings beside the chart's. */
export function additionalResourcesOf(service: SupportServiceName): Manifest[] {
  if (service !== 'gateway') return [];
  const namespace = supportServices.gateway.namespace;
  return [
    {
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'EnvoyProxy',
      metadata: { name: GATEWAY_CLASS, namespace },
      // Every Gateway of the class on one Envoy proxy: one load balancer per cluster, not one per workload.
      spec: { mergeGateways: true },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: GATEWAY_CLASS },
      spec: {
        controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
        parametersRef: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: GATEWAY_CLASS, namespace },
      },
    },
  ];
}

/** A namespace selector no namespace matches: the webhook is never called. */
const NO_NAMESPACE = { matchExpressions: [{ key: 'control-plane.threeport.io/simulated-cluster-no-webhook', operator: 'Exists' }] };

/**
 * On a simulated cluster nothing serves an admission webhook, and one with failurePolicy Fail
 * rejects every object of its kinds: cert-manager's webhooks are pointed at no namespace there.
 * (Never on a real cluster: those webhooks validate what users write.)
 */
export function simulatedClusterValues(service: SupportServiceName): Values {
  if (service === 'cert-manager') return { webhook: { validatingWebhookConfiguration: { namespaceSelector: NO_NAMESPACE }, mutatingWebhookConfiguration: { namespaceSelector: NO_NAMESPACE } } };
  // Its webhook validates SecretStores and ExternalSecrets (failurePolicy Fail); the cert controller only serves that webhook.
  if (service === 'external-secrets') return { webhook: { create: false }, certController: { create: false } };
  return {};
}

/**
 * The External Secrets Operator on one runtime: its service account assumes the runtime's role
 * where threeport made one (EKS), else it reads the runtime's AWS account's keys from its own
 * namespace; it calls the Secrets Manager and STS endpoints the control plane uses when those are not AWS's own.
 */
export function externalSecretsValues(settings: { workloadRole?: string | undefined; endpoints?: { secretsManager?: string | undefined; sts?: string | undefined } }): Values {
  const { secretsManager, sts } = settings.endpoints ?? {};
  const env = [
    ...(settings.workloadRole ? [] : accountKeysEnv('external-secrets')),
    ...(secretsManager ? [{ name: 'AWS_SECRETSMANAGER_ENDPOINT', value: secretsManager }] : []),
    // Where it assumes another account's role.
    ...(sts ? [{ name: 'AWS_STS_ENDPOINT', value: sts }] : []),
  ];
  return {
    ...(settings.workloadRole && { serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': settings.workloadRole } } }),
    ...(env.length > 0 && { extraEnv: env }),
  };
}

export interface DnsSettings {
  /** Every domain the runtime's gateways are published under, with its hosted zone. */
  zones: ReadonlyArray<{ domain: string; zoneId: string }>;
  /** Whose records these are: external-dns touches only records with this owner. */
  ownerId: string;
  region: string;
  /** A role external-dns assumes from the account's keys (the account's RoleArn and ExternalId). */
  role?: { arn: string; externalId?: string };
  /** The role its service account assumes through the cluster's OIDC provider (an EKS cluster threeport made): no keys then. */
  workloadRole?: string;
  /** The Route53 endpoint when it is not AWS's own (the control plane's AWS_ENDPOINT_URL). */
  endpoint?: string;
}

export function externalDnsValues(settings: DnsSettings): Values {
  const zones = [...settings.zones].sort((a, b) => a.domain.localeCompare(b.domain));
  return {
    domainFilters: zones.map((zone) => zone.domain),
    txtOwnerId: settings.ownerId,
    ...(settings.workloadRole && { serviceAccount: { create: true, annotations: { 'eks.amazonaws.com/role-arn': settings.workloadRole } } }),
    env: [
      ...(settings.workloadRole ? [] : accountKeysEnv('external-dns')),
      { name: 'AWS_DEFAULT_REGION', value: settings.region },
      ...(settings.endpoint ? [{ name: 'AWS_ENDPOINT_URL', value: settings.endpoint }] : []),
    ],
    extraArgs: [
      // Exactly the zones threeport found or made: never a public and a private zone of one name both.
      ...zones.map((zone) => `--zone-id-filter=${zone.zoneId}`),
      ...(settings.role && !settings.workloadRole ? [`--aws-assume-role=${settings.role.arn}`, ...(settings.role.externalId ? [`--aws-assume-role-external-id=${settings.role.externalId}`] : [])] : []),
    ],
  };
}

/** external-dns with another provider than Route53: the domains and the owner; the operator's values add the provider's credentials and settings. */
export function otherProviderValues(settings: { provider: string; domains: readonly string[]; ownerId: string }): Values {
  return { provider: { name: settings.provider }, domainFilters: [...settings.domains].sort(), txtOwnerId: settings.ownerId };
}
