import { association, boolean, json, nested, ref, string } from '../fields.ts';
import { defineKind } from '../kind.ts';

export const ControlPlaneDefinition = defineKind({
  name: 'ControlPlaneDefinition',
  domain: 'control-plane',
  owners: 'platform',
  description: 'A threeport control plane to deploy as a child of this one.',
  shape: 'definition',
  controller: 'control-plane',
  fields: {
    AuthEnabled: boolean({ default: true }),
    OnboardParent: boolean({ default: true }),
    ControlPlaneInstances: association('ControlPlaneInstance'),
  },
});

export const ControlPlaneInstance = defineKind({
  name: 'ControlPlaneInstance',
  domain: 'control-plane',
  owners: 'platform',
  description: 'A deployed threeport control plane (IsSelf marks the one serving this API).',
  shape: 'instance',
  controller: 'control-plane',
  fields: {
    Namespace: string({ required: true }),
    IsSelf: boolean(),
    CustomComponentInfo: nested('ControlPlaneComponent', 'ControlPlaneInstanceID'),
    Genesis: boolean(),
    ApiServerEndpoint: string(),
    CACert: string({ query: false }),
    ClientCert: string({ query: false }),
    ClientKey: string({ encrypted: true }),
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true }),
    ParentControlPlaneInstanceID: ref('ControlPlaneInstance', { query: false }),
    ControlPlaneDefinitionID: ref('ControlPlaneDefinition', { required: true, blocksDelete: true }),
  },
});

export const ControlPlaneComponent = defineKind({
  name: 'ControlPlaneComponent',
  domain: 'control-plane',
  owners: 'platform',
  description: 'A custom component of a control plane instance (image, service account, volumes).',
  shape: 'plain',
  routed: false,
  uniqueName: false,
  fields: {
    ControlPlaneInstanceID: ref('ControlPlaneInstance', { required: true, cascade: true }),
    Enabled: boolean(),
    Name: string({ required: true }),
    BinaryName: string(),
    ImageName: string(),
    ImageRepo: string(),
    ImageTag: string(),
    ServiceAccountName: string(),
    ServiceResourceName: string(),
    ImagePullSecretName: string(),
    AdditionalVolumes: json(),
    AdditionalVolumeMounts: json(),
    AdditionalEnvRef: json(),
  },
});
