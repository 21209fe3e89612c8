import { execFile } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { versions } from '../versions.ts';
import { goInstall } from './go.ts';
import { onPath } from './on-path.ts';
import type { ToolRecipe } from './recipe.ts';

const execFileAsync = promisify(execFile);

/**
 * terraform at the pinned version: the machine's own when it is that version (linked), otherwise
 * built from HashiCorp's module through the Go module proxy.
 */
export const terraformRecipe: ToolRecipe = {
  name: 'terraform',
  version: versions.terraform,
  revision: 1,
  binaries: ['terraform'],
  needs: 'go',
  coldSeconds: 240,
  async build(binDir, workDir) {
    const installed = await installedTerraform();
    if (installed) {
      symlinkSync(installed, join(binDir, 'terraform'));
      return;
    }
    await goInstall('github.com/hashicorp/terraform', versions.terraform, binDir, workDir, `-s -w -X github.com/hashicorp/terraform/version.dev=no`);
  },
};

/** `terraform` on the PATH, if it is the pinned version. */
async function installedTerraform(): Promise<string | undefined> {
  const candidate = onPath('terraform', process.env.PATH);
  if (!candidate) return undefined;
  const { stdout } = await execFileAsync(candidate, ['version', '-json'], { timeout: 30_000, env: { ...process.env, CHECKPOINT_DISABLE: '1' } }).catch(() => ({ stdout: '{}' }));
  const version = (JSON.parse(stdout) as { terraform_version?: string }).terraform_version;
  return version && `v${version}` === versions.terraform ? candidate : undefined;
}
