import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withFileLock } from '../file-lock.ts';
import { LocalRuntimeError } from '../errors.ts';
import { cacheRoot } from '../cache.ts';
import { requireGo, requirePython } from '../prerequisites.ts';
import { report, step } from '../progress.ts';
import { etcdRecipe } from './etcd.ts';
import { helmRecipe, kwokRecipe, natsServerRecipe } from './go-installs.ts';
import { kubernetesRecipe } from './kubernetes.ts';
import { motoRecipe } from './moto.ts';
import { terraformRecipe } from './terraform.ts';
import type { ToolRecipe } from './recipe.ts';

export type ToolName =
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubectl'
  | 'etcd'
  | 'kwok'
  | 'kwokctl'
  | 'helm'
  | 'nats-server'
  | 'moto_server'
  | 'terraform';

export type ToolPaths = Partial<Record<ToolName, string>>;

export type ToolGroup = 'kubernetes' | 'helm' | 'nats' | 'aws' | 'terraform';

const recipesByGroup: Record<ToolGroup, ToolRecipe[]> = {
  nats: [natsServerRecipe],
  kubernetes: [etcdRecipe, kwokRecipe, kubernetesRecipe],
  helm: [helmRecipe],
  aws: [motoRecipe],
  terraform: [terraformRecipe],
};

export const allToolGroups: ToolGroup[] = ['nats', 'kubernetes', 'helm', 'aws', 'terraform'];

function toolDir(recipe: ToolRecipe): string {
  return join(cacheRoot(), 'tools', `${recipe.name}-${recipe.version}-r${recipe.revision}-${process.platform}-${process.arch}`);
}

function isInstalled(recipe: ToolRecipe): boolean {
  return existsSync(join(toolDir(recipe), 'manifest.json'));
}

/**
 * Makes sure one tool is in the cache and returns its bin folder. The manifest is written last,
 * so a folder without one is an interrupted build: it is wiped and built again, quickly, because
 * Go's module and build caches kept what was already done.
 */
export async function installOne(recipe: ToolRecipe): Promise<string> {
  const dir = toolDir(recipe);
  const binDir = join(dir, 'bin');
  if (isInstalled(recipe)) return binDir;
  const label = `${recipe.name} ${recipe.version}`;
  await withFileLock(join(cacheRoot(), 'locks', `${recipe.name}-${recipe.version}.lock`), `building ${label}`, async () => {
    if (isInstalled(recipe)) return;
    if (recipe.needs === 'go') await requireGo();
    else await requirePython();
    const workDir = join(cacheRoot(), 'build', `${recipe.name}-${recipe.version}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(binDir, { recursive: true });
    mkdirSync(workDir, { recursive: true });
    await step(`build ${label} (${recipe.binaries.join(', ')})`, () => recipe.build(binDir, workDir, dir), estimate(recipe.coldSeconds));
    for (const binary of recipe.binaries) {
      if (!existsSync(join(binDir, binary))) throw new LocalRuntimeError(`building ${label} left no ${binary} in ${binDir}`);
    }
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...recipe, builtAt: new Date().toISOString() }, null, 2));
  });
  return binDir;
}

function estimate(seconds: number): string {
  return `about ${seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`} on 2 idle cores`;
}

/**
 * Installs the tools of the given groups (building what the cache lacks) and returns their paths.
 * Go builds run one after another — each already uses every core — while moto's pip install,
 * which mostly waits on the network, runs beside them.
 */
export async function installTools(groups: ToolGroup[] = allToolGroups): Promise<ToolPaths> {
  const recipes = groups.flatMap((group) => recipesByGroup[group]);
  const missing = recipes.filter((recipe) => !isInstalled(recipe));
  if (missing.length > 0) {
    // Every missing prerequisite is named before anything starts building.
    if (missing.some((recipe) => recipe.needs === 'go')) await requireGo();
    if (missing.some((recipe) => recipe.needs === 'python')) await requirePython();
    // Go builds run one after another; pip runs beside them.
    const goSeconds = missing.filter((recipe) => recipe.needs === 'go').reduce((sum, recipe) => sum + recipe.coldSeconds, 0);
    const otherSeconds = Math.max(0, ...missing.filter((recipe) => recipe.needs !== 'go').map((recipe) => recipe.coldSeconds));
    report(
      `building into ${cacheRoot()}: ${missing.map((recipe) => `${recipe.name} ${recipe.version}`).join(', ')} ` +
        `(first time only; ${estimate(Math.max(goSeconds, otherSeconds))}, longer on a busy machine)`,
    );
  }
  const paths: ToolPaths = {};
  const record = (recipe: ToolRecipe, binDir: string) => {
    for (const binary of recipe.binaries) paths[binary as ToolName] = join(binDir, binary);
  };
  const goBuilds = (async () => {
    for (const recipe of recipes.filter((r) => r.needs === 'go')) record(recipe, await installOne(recipe));
  })();
  const otherInstalls = Promise.all(
    recipes.filter((r) => r.needs !== 'go').map(async (recipe) => record(recipe, await installOne(recipe))),
  );
  await Promise.all([goBuilds, otherInstalls]);
  return paths;
}
