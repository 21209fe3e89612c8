/**
 * The test bed's Terraform: the real terraform binary at its pinned version, and a small provider
 * of our own (./terraform-provider-fixture, built with HashiCorp's plugin framework from the Go
 * module proxy) in a filesystem mirror — HashiCorp's providers are out of reach of this machine,
 * and tests must run terraform init, plan, apply and destroy for real. Built once into the cache.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { go, installTool, installTools, type ToolRecipe } from '../local-runtime/index.ts';
import { versions } from '../local-runtime/versions.ts';

const source = new URL('./terraform-provider-fixture/', import.meta.url).pathname;
const files = ['go.mod', 'main.go'];

/** The provider's source address, as a configuration names it: `source = "threeport/fixture"`. */
export const FIXTURE_PROVIDER = 'threeport/fixture';
const VERSION = '0.1.0';
const platform = `linux_${process.arch === 'arm64' ? 'arm64' : 'amd64'}`;
const binary = `registry.terraform.io/${FIXTURE_PROVIDER}/${VERSION}/${platform}/terraform-provider-fixture_v${VERSION}`;

/** The source's digest is part of the version: an edit of the fixture builds it again. */
const sourceDigest = (): string => {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(join(source, file)));
  return hash.digest('hex').slice(0, 12);
};

const fixtureRecipe = (): ToolRecipe => ({
  name: 'terraform-provider-fixture',
  version: `${VERSION}-${sourceDigest()}`,
  revision: 1,
  binaries: [binary],
  needs: 'go',
  coldSeconds: 60,
  async build(binDir, workDir) {
    for (const file of files) copyFileSync(join(source, file), join(workDir, file));
    await go(['get', `github.com/hashicorp/terraform-plugin-framework@${versions.terraformPluginFramework}`], workDir);
    await go(['mod', 'tidy'], workDir);
    await go(['build', '-ldflags', '-s -w', '-o', join(binDir, binary), '.'], workDir);
  },
});

export interface TerraformFixture {
  terraform: string;
  /** A filesystem mirror holding the fixture provider (`provider_installation { filesystem_mirror { path = … } }`). */
  providerMirror: string;
}

export async function installTerraformFixture(): Promise<TerraformFixture> {
  const { terraform } = await installTools(['terraform']);
  const providerMirror = await installTool(fixtureRecipe());
  if (!terraform) throw new Error('terraform was not installed');
  return { terraform, providerMirror };
}
