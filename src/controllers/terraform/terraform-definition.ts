/** TerraformDefinition: an edit of its configuration is applied by every instance (the original ignored edits). */
import type { Reconciler } from '../../controller/reconciler.ts';
import type { ObjectOf } from '../../model/object-types.ts';

export function terraformDefinitionReconciler(): Reconciler<ObjectOf<'TerraformDefinition'>> {
  return {
    kind: 'TerraformDefinition',
    async reconcile(context) {
      if (context.operation === 'Deleted') return undefined;
      for (const instance of await context.client.referrers('TerraformDefinition', context.object.ID, 'TerraformInstance')) {
        await context.requestReconcile('TerraformInstance', Number(instance.ID), `terraform definition ${context.object.Name} changed`);
      }
      return undefined;
    },
  };
}
