/**
 * What threeport installs into every cluster it manages (the original's "compute space"): its
 * namespace, the agent's CRD and RBAC — shared by every control plane that uses the cluster, so
 * identical whoever applies them — and, when the agent runs in the cluster, this control plane's
 * agent Deployment.
 */
import { createHash } from 'node:crypto';
import { COMPUTE_SPACE_NAMESPACE, CONTROL_PLANE_LABEL, threeportWorkloadCrd } from '../../model/threeport-workload.ts';
import type { Manifest } from '../../model/manifest.ts';
import { labels } from '../../platform/kubernetes/index.ts';
import type { AgentCredentials } from './agent-location.ts';

export const AGENT_NAME = 'threeport-agent';

/** This control plane's agent: its own Deployment, so control planes sharing a cluster don't take each other's. */
export const agentDeploymentName = (controlPlaneId: string): string => `${AGENT_NAME}-${controlPlaneId.slice(0, 8)}`;

/** The agent in a cluster: its image, the API's address, and its credentials when the API has auth on. */
export interface ClusterAgent {
  image: string;
  apiUrl: string;
  credentials?: AgentCredentials;
}

export interface ComputeSpaceOptions {
  controlPlaneId: string;
  /** Present when the agent runs in the cluster. */
  agent?: ClusterAgent;
}

const shared = (name: string, namespace?: string) => ({ name, ...(namespace && { namespace }), labels: { [labels.MANAGED_BY]: labels.THREEPORT } });

/** The shared components, and this control plane's agent Deployment when `agent` is given. */
export function computeSpace(options: ComputeSpaceOptions): Manifest[] {
  const manifests: Manifest[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: shared(COMPUTE_SPACE_NAMESPACE) },
    threeportWorkloadCrd,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: shared(AGENT_NAME, COMPUTE_SPACE_NAMESPACE) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: shared(AGENT_NAME),
      rules: [
        { apiGroups: ['control-plane.threeport.io'], resources: ['threeportworkloads', 'threeportworkloads/status', 'threeportworkloads/finalizers'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
        // It reports on whatever workloads consist of, so it reads every kind; it changes nothing.
        { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: shared(AGENT_NAME),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: AGENT_NAME },
      subjects: [{ kind: 'ServiceAccount', name: AGENT_NAME, namespace: COMPUTE_SPACE_NAMESPACE }],
    },
  ];
  if (options.agent?.credentials) manifests.push(agentCredentialsSecret(options.controlPlaneId, options.agent.credentials));
  if (options.agent) manifests.push(agentDeployment(options.controlPlaneId, options.agent));
  return manifests;
}

const CA_DIR = '/etc/threeport/api-ca';

export const agentCredentialsName = (controlPlaneId: string): string => `${agentDeploymentName(controlPlaneId)}-credentials`;

/** The agent's token and the API's CA, as a Secret its Deployment reads. */
function agentCredentialsSecret(controlPlaneId: string, credentials: AgentCredentials): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: agentCredentialsName(controlPlaneId), namespace: COMPUTE_SPACE_NAMESPACE, labels: { [labels.MANAGED_BY]: labels.THREEPORT, [CONTROL_PLANE_LABEL]: controlPlaneId } },
    type: 'Opaque',
    stringData: { token: credentials.token, ...(credentials.caCertificate && { 'ca.crt': credentials.caCertificate }) },
  };
}

/** Env and volume of the credentials; a digest of them on the pod, so a new token restarts the agent. */
function credentialsOf(controlPlaneId: string, credentials: AgentCredentials | undefined) {
  if (!credentials) return { env: [], volumes: [], mounts: [], annotations: {} };
  const secret = agentCredentialsName(controlPlaneId);
  const digest = createHash('sha256').update(`${credentials.token}\n${credentials.caCertificate ?? ''}`).digest('hex').slice(0, 16);
  const ca = Boolean(credentials.caCertificate);
  return {
    env: [
      { name: 'THREEPORT_API_TOKEN', valueFrom: { secretKeyRef: { name: secret, key: 'token' } } },
      ...(ca ? [{ name: 'THREEPORT_API_CA', value: `${CA_DIR}/ca.crt` }] : []),
    ],
    volumes: ca ? [{ name: 'api-ca', secret: { secretName: secret, items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] : [],
    mounts: ca ? [{ name: 'api-ca', mountPath: CA_DIR, readOnly: true }] : [],
    annotations: { 'threeport.io/credentials-digest': digest },
  };
}

export function agentDeployment(controlPlaneId: string, agent: ClusterAgent): Manifest {
  const name = agentDeploymentName(controlPlaneId);
  const selector = { 'app.kubernetes.io/name': AGENT_NAME, [CONTROL_PLANE_LABEL]: controlPlaneId };
  const credentials = credentialsOf(controlPlaneId, agent.credentials);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: COMPUTE_SPACE_NAMESPACE, labels: { [labels.MANAGED_BY]: labels.THREEPORT, [CONTROL_PLANE_LABEL]: controlPlaneId } },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: selector, ...(agent.credentials && { annotations: credentials.annotations }) },
        spec: {
          serviceAccountName: AGENT_NAME,
          ...(credentials.volumes.length > 0 && { volumes: credentials.volumes }),
          containers: [
            {
              name: 'agent',
              image: agent.image,
              args: ['agent', '--api-url', agent.apiUrl, '--control-plane-id', controlPlaneId],
              ...(credentials.env.length > 0 && { env: credentials.env }),
              ...(credentials.mounts.length > 0 && { volumeMounts: credentials.mounts }),
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
            },
          ],
        },
      },
    },
  };
}
