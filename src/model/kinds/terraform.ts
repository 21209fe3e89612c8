import { association, ref, string } from '../fields.ts';
import { defineKind } from '../kind.ts';

export const TerraformDefinition = defineKind({
  name: 'TerraformDefinition',
  domain: 'terraform',
  description: 'A Terraform configuration for infrastructure threeport has no abstraction for.',
  shape: 'definition',
  controller: 'terraform',
  fields: {
    ConfigDir: string({ required: true, query: false, description: 'The Terraform configuration.' }),
    TerraformInstances: association('TerraformInstance'),
  },
});

export const TerraformInstance = defineKind({
  name: 'TerraformInstance',
  domain: 'terraform',
  description: 'An applied Terraform configuration, with its variables, state and outputs.',
  shape: 'instance',
  controller: 'terraform',
  fields: {
    AwsAccountID: ref('AwsAccount', { required: true, blocksDelete: true }),
    VarsDocument: string({ encrypted: true }),
    StateDocument: string({ encrypted: true, owner: 'controller' }),
    Outputs: string({ encrypted: true, owner: 'controller' }),
    TerraformDefinitionID: ref('TerraformDefinition', { required: true, blocksDelete: true, queryAliases: ['workloaddefinitionid'] }),
  },
});
