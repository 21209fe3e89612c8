/** How kinds are named on the command line: `workload-definition(s)`, and "workload definition" in messages. */
import type { Kind } from '../model/kind.ts';
import { kebabCase, plural } from '../model/naming.ts';
import { registry } from '../model/registry.ts';
import { CliError } from './errors.ts';

export const commandName = (typeName: string): string => kebabCase(typeName);
export const pluralCommandName = (typeName: string): string => plural(kebabCase(typeName));
export const humanName = (typeName: string): string => kebabCase(typeName).replaceAll('-', ' ');
/** "an aws account", "a workload", "an AwsAccount": spoken as written, so a vowel decides. */
export const withArticle = (noun: string): string => `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;

/** The kind a command-line name means: `workload-definition`, its plural, or `WorkloadDefinition`. */
export function kindNamed(name: string): Kind {
  const kind = registry.kinds.find((candidate) => [commandName(candidate.name), pluralCommandName(candidate.name), candidate.name.toLowerCase()].includes(name.toLowerCase()));
  if (!kind) throw new CliError(`no kind named ${name}: use one such as workload-definition, helm-workload-instance or gateway-definition (tptctl get --help lists them)`);
  return kind;
}
