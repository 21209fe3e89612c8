/**
 * Brings the test bed up once per test run and hands its description to the test files
 * (see peers.ts). Reuses, in this order: the test bed named by $THREEPORT_TESTBED, or a healthy
 * one started with `npm run testbed -- up`; otherwise starts a private one for this run under
 * .testbed/runs/ and stops it at the end. Private instances keep concurrent runs apart.
 * When the test bed cannot start, the run goes on: tests that need a peer fail with the reason.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { readDescription, readDescriptionFile, type TestbedDescription } from '../../src/testbed/description.ts';
import { messageOf } from '../../src/local-runtime/errors.ts';
import { checkHealth } from '../../src/testbed/health.ts';
import { defaultInstanceDir, testRunsDir } from '../../src/testbed/paths.ts';
import { identify, isRunning, type ProcessIdentity } from '../../src/local-runtime/process-identity.ts';
import { report } from '../../src/local-runtime/progress.ts';
import { down, ownerFile, up } from '../../src/testbed/testbed.ts';
import type {} from './peers.ts'; // the ProvidedContext keys

async function healthy(description: TestbedDescription): Promise<boolean> {
  return (await checkHealth(description)).every((peer) => peer.healthy);
}

/** Stops private instances whose test run died without tearing them down. */
async function reapAbandonedRuns(): Promise<void> {
  let runs: string[];
  try {
    runs = readdirSync(testRunsDir);
  } catch {
    return;
  }
  for (const run of runs) {
    const dir = join(testRunsDir, run);
    let owner: ProcessIdentity | undefined;
    try {
      owner = JSON.parse(readFileSync(join(dir, ownerFile), 'utf8')) as ProcessIdentity;
    } catch {
      // Another run may have just made the folder and not yet noted itself as its owner.
      if (!existsSync(dir) || Date.now() - statSync(dir).mtimeMs < 60_000) continue;
    }
    if (owner && isRunning(owner)) continue;
    report(`stopping the test bed of an earlier test run that ended without stopping it (${dir})`);
    await down(dir);
  }
}

async function acquire(): Promise<{ description: TestbedDescription; teardown?: () => Promise<void> }> {
  const named = process.env.THREEPORT_TESTBED;
  if (named) {
    const description = readDescriptionFile(named);
    if (!(await healthy(description))) throw new Error(`the test bed named by THREEPORT_TESTBED (${named}) is not healthy; see: npm run testbed -- status --dir ${description.dir}`);
    return { description };
  }
  const shared = readDescription(defaultInstanceDir);
  if (shared && (await healthy(shared))) {
    report(`using the running test bed ${shared.descriptionPath}`);
    return { description: shared };
  }
  await reapAbandonedRuns();
  const dir = join(testRunsDir, `${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, ownerFile), JSON.stringify(identify(process.pid)));
  report(`starting a test bed for this run in ${dir}`);
  try {
    const description = await up({ dir });
    return { description, teardown: () => down(dir) };
  } catch (error) {
    await down(dir);
    throw error;
  }
}

const SCRATCH_PREFIX = 'threeport-tests-';

/**
 * One folder under the OS temp dir for everything this run's workers and the processes they start
 * put there (data directories, tptctl homes, kubeconfigs): they get it as TMPDIR, and it goes at
 * the end, so runs of the suite do not fill the disk. A run that died leaves its folder; one older
 * than a day is removed by the next run.
 */
function scratchFolder(): { folder: string; remove(): void } {
  const parent = tmpdir();
  for (const entry of readdirSync(parent)) {
    const path = join(parent, entry);
    if (entry.startsWith(SCRATCH_PREFIX) && Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
  }
  const folder = mkdtempSync(join(parent, SCRATCH_PREFIX));
  // Others may pass through, as through /tmp: the test bed's PostgreSQL runs as its own user.
  chmodSync(folder, 0o755);
  return { folder, remove: () => rmSync(folder, { recursive: true, force: true, maxRetries: 3 }) };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scratch = scratchFolder();
  process.env.TMPDIR = scratch.folder;
  try {
    const { description, teardown } = await acquire();
    project.provide('testbed', description);
    project.provide('testbedError', null);
    process.env.THREEPORT_TESTBED = description.descriptionPath;
    return async () => {
      if (teardown) await teardown();
      scratch.remove();
    };
  } catch (error) {
    const reason = messageOf(error);
    process.stderr.write(`\ntestbed: NOT AVAILABLE — tests that need a real peer will fail:\n${reason}\n\n`);
    project.provide('testbed', null);
    project.provide('testbedError', reason);
    return async () => scratch.remove();
  }
}
