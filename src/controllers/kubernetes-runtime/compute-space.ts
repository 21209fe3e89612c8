/**
 * What threeport installs into every cluster it manages (the original's "compute space"): its
 * namespace, the agent's CRD and RBAC — shared by every control plane that uses the cluster, so
 * identical whoever applies them — and, when the agent runs in the cluster, this control plane's
 * agent Deployment.
 */
import { COMPUTE_SPACE_NAMESPACE, CONTROL_PLANE_LABEL, threeportWorkloadCrd } from '../../model/threeport-workload.ts';
import type { Manifest } from '../../model/manifest.ts';
import { labels } from '../../platform/kubernetes/index.ts';

export const AGENT_NAME = 'threeport-agent';

/** This control plane's agent: its own Deployment, so control planes sharing a cluster don't take each other's. */
export const agentDeploymentName = (controlPlaneId: string): string => `${AGENT_NAME}-${controlPlaneId.slice(0, 8)}`;

export interface ComputeSpaceOptions {
  controlPlaneId: string;
  /** Present when the agent runs in the cluster. */
  agent?: { image: string; apiUrl: string };
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
  if (options.agent) manifests.push(agentDeployment(options.controlPlaneId, options.agent));
  return manifests;
}

export function agentDeployment(controlPlaneId: string, agent: { image: string; apiUrl: string }): Manifest {
  const name = agentDeploymentName(controlPlaneId);
  const selector = { 'app.kubernetes.io/name': AGENT_NAME, [CONTROL_PLANE_LABEL]: controlPlaneId };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: COMPUTE_SPACE_NAMESPACE, labels: { [labels.MANAGED_BY]: labels.THREEPORT, [CONTROL_PLANE_LABEL]: controlPlaneId } },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: selector },
        spec: {
          serviceAccountName: AGENT_NAME,
          containers: [
            {
              name: 'agent',
              image: agent.image,
              args: ['agent', '--api-url', agent.apiUrl, '--control-plane-id', controlPlaneId],
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
            },
          ],
        },
      },
    },
  };
}
