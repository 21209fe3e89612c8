import { association, boolean, integer, nested, ref, string } from '../fields.ts';
import { certificateIssuerHint, certificateIssuerNamed } from '../certificate-issuer.ts';
import { defineKind } from '../kind.ts';

export const GatewayDefinition = defineKind({
  name: 'GatewayDefinition',
  domain: 'gateway',
  owners: 'developer',
  description: 'Network ingress for a workload: ports, TLS, domain.',
  shape: 'definition',
  profileSection: 'Gateway',
  controller: 'gateway',
  fields: {
    HttpPorts: nested('GatewayHttpPort', 'GatewayDefinitionID', { desiredState: true }),
    TcpPorts: nested('GatewayTcpPort', 'GatewayDefinitionID', { desiredState: true }),
    DomainNameDefinitionID: ref('DomainNameDefinition'),
    SubDomain: string(),
    ServiceName: string({ description: 'Kubernetes Service to route to.' }),
    CertificateIssuer: string({ description: `Where its TLS certificates come from, over the control plane's issuer: letsencrypt, letsencrypt-staging, self-signed, or the https:// URL of an ACME directory.` }),
    WorkloadDefinitionID: ref('WorkloadDefinition'),
    GatewayInstances: association('GatewayInstance'),
  },
  rules: {
    validate(definition) {
      const issuer = definition.CertificateIssuer;
      if (typeof issuer === 'string' && !certificateIssuerNamed(issuer)) return `CertificateIssuer "${issuer}" names no issuer: ${certificateIssuerHint}`;
      return undefined;
    },
  },
});

export const GatewayHttpPort = defineKind({
  name: 'GatewayHttpPort',
  domain: 'gateway',
  owners: 'developer',
  description: 'An HTTP port exposed by a gateway.',
  shape: 'plain',
  fields: {
    GatewayDefinitionID: ref('GatewayDefinition', { required: true, cascade: true }),
    Port: integer({ required: true }),
    Path: string({ default: '/' }),
    TLSEnabled: boolean({ default: false }),
    HTTPSRedirect: boolean({ default: false }),
  },
});

export const GatewayTcpPort = defineKind({
  name: 'GatewayTcpPort',
  domain: 'gateway',
  owners: 'developer',
  description: 'A TCP port exposed by a gateway.',
  shape: 'plain',
  fields: {
    GatewayDefinitionID: ref('GatewayDefinition', { required: true, cascade: true }),
    Port: integer({ required: true }),
    TLSEnabled: boolean({ default: false }),
  },
});

export const GatewayInstance = defineKind({
  name: 'GatewayInstance',
  domain: 'gateway',
  owners: 'developer',
  description: 'A gateway deployed for a workload instance.',
  shape: 'instance',
  controller: 'gateway',
  fields: {
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true }),
    GatewayDefinitionID: ref('GatewayDefinition', { required: true, blocksDelete: true }),
    WorkloadInstanceID: ref('WorkloadInstance', { required: true, queryAliases: ['workloadresourceinstanceid'] }),
  },
});

export const DomainNameDefinition = defineKind({
  name: 'DomainNameDefinition',
  domain: 'gateway',
  owners: 'platform',
  description: 'A DNS domain and zone workloads can be published under.',
  shape: 'definition',
  profileSection: 'DomainName',
  reconciliationFields: true,
  fields: {
    Domain: string({ required: true, description: 'Base domain.' }),
    Zone: string({ required: true, description: 'DNS zone.' }),
    AdminEmail: string({ required: true }),
    DomainNameInstances: association('DomainNameInstance'),
  },
});

export const DomainNameInstance = defineKind({
  name: 'DomainNameInstance',
  domain: 'gateway',
  owners: 'developer',
  description: 'DNS records for a workload instance.',
  shape: 'instance',
  controller: 'gateway',
  fields: {
    DomainNameDefinitionID: ref('DomainNameDefinition', { required: true, blocksDelete: true }),
    WorkloadInstanceID: ref('WorkloadInstance', { required: true, queryAliases: ['workloadresourceinstanceid'] }),
    KubernetesRuntimeInstanceID: ref('KubernetesRuntimeInstance', { required: true }),
  },
});
