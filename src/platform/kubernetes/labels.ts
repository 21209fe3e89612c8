/**
 * The labels threeport puts on what it applies — the original's, so its tools and agent still find
 * them (reference §3.1 AddLabels) — and the label that tells control planes sharing a cluster apart.
 */
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const APP_NAME = 'app.kubernetes.io/name';
export const APP_INSTANCE = 'app.kubernetes.io/instance';
export const CONTROL_PLANE_MANAGED_BY = 'control-plane.threeport.io/managed-by';
export const WORKLOAD_INSTANCE = 'control-plane.threeport.io/workload-instance';
export const HELM_WORKLOAD_INSTANCE = 'control-plane.threeport.io/helm-workload-instance';
export const THREEPORT = 'threeport';
/** On pod templates: the workload (definition) and instance names, which log collectors turn into labels. */
export const WORKLOAD_NAME = 'control-plane.threeport.io/workload-name';
export const INSTANCE_NAME = 'control-plane.threeport.io/instance-name';

/** Kinds whose pod template gets the instance labels too, so Pods and ReplicaSets can be found by them. */
const podTemplateKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

export interface InstanceLabels {
  definitionName: string;
  instanceName: string;
  instanceId: number;
  /** WORKLOAD_INSTANCE or HELM_WORKLOAD_INSTANCE */
  instanceLabelKey: string;
  /** Set on the resource and its pod template whatever the manifest says (e.g. the control plane's identity). */
  always?: Record<string, string>;
}

type Labeled = { metadata?: { labels?: Record<string, string> }; [key: string]: unknown };

const labelValue = (value: string): string => value.slice(0, 63).replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');

/**
 * A copy of `manifest` with the labels the original adds: each only where the manifest doesn't set
 * it, except the instance and managed-by labels on pod templates, which are always set (the
 * agent finds Pods by them), with the workload's and instance's names (logs are labelled by them).
 */
export function withInstanceLabels<T extends Labeled>(manifest: T, labels: InstanceLabels): T {
  const copy = structuredClone(manifest);
  const metadata = ((copy as Labeled).metadata ??= {});
  const own = (metadata.labels ??= {});
  const add: Record<string, string> = {
    [MANAGED_BY]: THREEPORT,
    [APP_NAME]: labelValue(labels.definitionName),
    [APP_INSTANCE]: labelValue(labels.instanceName),
    [labels.instanceLabelKey]: String(labels.instanceId),
    [CONTROL_PLANE_MANAGED_BY]: THREEPORT,
  };
  for (const [key, value] of Object.entries(add)) if (!(key in own)) own[key] = value;
  Object.assign(own, labels.always);
  if (podTemplateKinds.has(String((copy as { kind?: unknown }).kind))) {
    const spec = (copy as { spec?: { template?: Labeled } }).spec;
    if (spec?.template) {
      const templateMetadata = (spec.template.metadata ??= {});
      const templateLabels = (templateMetadata.labels ??= {});
      templateLabels[labels.instanceLabelKey] = String(labels.instanceId);
      templateLabels[CONTROL_PLANE_MANAGED_BY] = THREEPORT;
      templateLabels[WORKLOAD_NAME] = labelValue(labels.definitionName);
      templateLabels[INSTANCE_NAME] = labelValue(labels.instanceName);
      Object.assign(templateLabels, labels.always);
    }
  }
  return copy;
}
