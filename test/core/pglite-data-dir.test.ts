/** A new embedded data directory: made whole from the template, never over someone's files, leftovers of crashed makers swept. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPglite } from '../../src/store/pglite.ts';
import { tempDir } from '../support/control-plane.ts';

/** A pid no process has: above the kernel's pid_max. */
const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;

describe('the embedded data directory', () => {
  it('is made whole, and a crashed maker’s partial copy is swept', async () => {
    const parent = tempDir('pglite-dir');
    const abandoned = join(parent, `pglite.${deadPid}.partial`);
    mkdirSync(abandoned);
    const db = await openPglite(join(parent, 'pglite'));
    try {
      expect(await db.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
    expect(existsSync(join(parent, 'pglite', 'PG_VERSION'))).toBe(true);
    expect(readdirSync(parent)).toEqual(['pglite']);
  }, 60_000);

  it('is refused, and left as it was, when it holds files but no database', async () => {
    const dir = join(tempDir('pglite-dir'), 'pglite');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await expect(openPglite(dir)).rejects.toThrow(`${dir} holds files but no database: move them away or choose another data directory`);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expect(readdirSync(join(dir, '..'))).toEqual(['pglite']);
  }, 60_000);
});
