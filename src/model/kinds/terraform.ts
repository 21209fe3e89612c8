import { association, json, ref, string } from '../fields.ts';
import { defineKind } from '../kind.ts';

export const TerraformDefinition = defineKind({
  name: 'TerraformDefinition',
  domain: 'terraform',
  owners: 'platform',
  description: 'A Terraform configuration for infrastructure threeport has no abstraction for.',
  shape: 'definition',
  controller: 'terraform',
  fields: {
    ConfigDir: string({ required: true, query: false, description: 'The Terraform configuration (the contents of one .tf file).' }),
    TerraformInstances: association('TerraformInstance'),
  },
});

export const TerraformInstance = defineKind({
  name: 'TerraformInstance',
  domain: 'terraform',
  owners: 'platform',
  description: 'An applied Terraform configuration, with its variables, state and outputs.',
  shape: 'instance',
  controller: 'terraform',
  fields: {
    AwsAccountID: ref('AwsAccount', { required: true, blocksDelete: true }),
    VarsDocument: string({ encrypted: true, description: 'The variables (terraform.tfvars contents); a change applies the configuration again.' }),
    StateDocument: string({ encrypted: true, owner: 'controller' }),
    Outputs: string({ encrypted: true, owner: 'controller', description: 'The outputs, as `terraform output -json` prints them.' }),
    TerraformDefinitionID: ref('TerraformDefinition', { required: true, blocksDelete: true, queryAliases: ['workloaddefinitionid'] }),
    WorkloadInstanceID: ref('WorkloadInstance', { description: 'A workload instance that gets the outputs as a Secret in its namespace, one key per output.' }),
    WorkloadSecretName: string({ description: "The name of the outputs' Secret (default: the instance's name)." }),
    OutputsSecret: json({ owner: 'controller', description: 'Where the outputs were delivered: {KubernetesRuntimeInstanceID, Namespace, Name}.' }),
  },
  rules: {
    validate(instance) {
      if (instance.WorkloadSecretName != null && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(String(instance.WorkloadSecretName))) return `WorkloadSecretName ${String(instance.WorkloadSecretName)} is not a valid Kubernetes name (lower-case letters, digits, - and .)`;
      return undefined;
    },
  },
});
