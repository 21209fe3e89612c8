/** Small things several controllers do in a cluster or with its names and values. */
import { createHash } from 'node:crypto';
import { TerminalError } from '../../controller/errors.ts';
import { parseValues, ValuesError, type Values } from '../../platform/helm/index.ts';
import type { KubernetesClient } from '../../platform/kubernetes/index.ts';

/** Creates the namespace when it is not there, with these labels (so who made it may remove it); one that exists is used as it is. */
export async function ensureNamespace(cluster: KubernetesClient, name: string, labels: Record<string, string>, signal: AbortSignal): Promise<void> {
  if (await cluster.get({ apiVersion: 'v1', kind: 'Namespace', name }, signal)) return;
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'threeport', ...labels } } }, { signal });
}

/** A Helm values document as values; one that is not is a TerminalError (only a change to the object fixes it). */
export function valuesOrTerminal(document: unknown, where: string): Values {
  try {
    return parseValues(typeof document === 'string' ? document : undefined, where);
  } catch (error) {
    if (error instanceof ValuesError) throw new TerminalError(error.message);
    throw error;
  }
}

/**
 * `<base>-<suffix>` as a DNS label (lower-case letters, digits, '-') of at most `max` characters;
 * a longer one is cut and given a digest of the whole, so two long names never end up the same.
 */
export function suffixedName(base: string, suffix: string, max = 63): string {
  const name = `${base}-${suffix}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '');
  if (name.length <= max) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, max - suffix.length - 10).replace(/-+$/, '')}-${digest}-${suffix}`;
}
