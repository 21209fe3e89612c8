/** A secret definition's values, decrypted: only ever held in memory, never logged (the runtime redacts what `decrypt` returns). */
import { TerminalError } from '../../controller/errors.ts';
import type { SecretValues } from '../../platform/aws/index.ts';

export function valuesOf(definition: { Name: string; Data?: unknown }, decrypt: (value: unknown) => unknown): SecretValues {
  const data = definition.Data === undefined || definition.Data === null ? undefined : decrypt(definition.Data);
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new TerminalError(`secret definition ${definition.Name} holds no values: write its Data again`);
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, String(value)]));
}

/** Whether a Kubernetes Secret's data (base64) holds exactly `values`. */
export function holdsValues(secret: object | undefined, values: SecretValues): boolean {
  const data = (secret as { data?: Record<string, string> } | undefined)?.data ?? {};
  const keys = Object.keys(values);
  return Object.keys(data).length === keys.length && keys.every((key) => data[key] !== undefined && Buffer.from(data[key], 'base64').toString('utf8') === values[key]);
}
