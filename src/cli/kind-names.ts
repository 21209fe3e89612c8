/** How kinds are named on the command line: `workload-definition(s)`, and "workload definition" in messages. */
import { kebabCase, plural } from '../model/naming.ts';

export const commandName = (typeName: string): string => kebabCase(typeName);
export const pluralCommandName = (typeName: string): string => plural(kebabCase(typeName));
export const humanName = (typeName: string): string => kebabCase(typeName).replaceAll('-', ' ');
/** "an aws account", "a workload", "an AwsAccount": spoken as written, so a vowel decides. */
export const withArticle = (noun: string): string => `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
