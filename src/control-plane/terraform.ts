/**
 * Where the controllers' terraform comes from: `THREEPORT_TERRAFORM` (a path), else `terraform` on
 * the PATH, else the one threeport installs into its cache (built from HashiCorp's module: a Go
 * toolchain is needed the first time). Found on first use, not at start; a failure is said on the
 * instances' Status and tried again. Providers come from their registries through a plugin cache
 * shared by every run, or only from `--terraform-provider-mirror` / THREEPORT_TERRAFORM_PROVIDER_MIRROR
 * (a filesystem mirror folder, or the https:// URL of a network mirror) for control planes that
 * cannot reach the registries.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
// Not the local runtime's index: it brings the Kubernetes client its clusters use.
import { cacheRoot } from '../local-runtime/cache.ts';
import { installTools } from '../local-runtime/tools/install.ts';
import { onPath } from '../local-runtime/tools/on-path.ts';
import { Terraform } from '../platform/terraform/index.ts';
import { ConfigError } from './config.ts';

/** --terraform-provider-mirror / THREEPORT_TERRAFORM_PROVIDER_MIRROR, checked before anything starts. */
export function terraformProviderMirrorOf(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (/^https:\/\//.test(value)) return value;
  if (/^[a-z]+:\/\//i.test(value)) throw new ConfigError(`invalid terraform provider mirror "${value}": a folder (a filesystem mirror) or an https:// network mirror URL`);
  const path = resolve(value);
  try {
    if (statSync(path).isDirectory()) return path;
  } catch {
    // said below
  }
  throw new ConfigError(`the terraform provider mirror ${path} (--terraform-provider-mirror or THREEPORT_TERRAFORM_PROVIDER_MIRROR) is not a folder: make it with \`terraform providers mirror ${path}\``);
}

export function terraformProvider(env: NodeJS.ProcessEnv = process.env, providerMirror: string | undefined = terraformProviderMirrorOf(env.THREEPORT_TERRAFORM_PROVIDER_MIRROR)): () => Promise<Terraform> {
  let found: Promise<Terraform> | undefined;
  const locate = async (): Promise<Terraform> => {
    const binary = env.THREEPORT_TERRAFORM?.trim() || onPath('terraform', env.PATH) || (await installTools(['terraform'])).terraform;
    if (!binary) throw new Error('no terraform: set THREEPORT_TERRAFORM to a terraform binary, or put terraform on the PATH');
    return new Terraform({ binary, home: join(cacheRoot(), 'terraform-home'), ...(providerMirror && { providerMirror }) });
  };
  return () =>
    (found ??= locate().catch((error: unknown) => {
      found = undefined; // looked for again on the next reconcile
      throw error;
    }));
}
