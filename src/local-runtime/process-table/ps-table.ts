import type { ProcessEntry, ProcessTable } from './table.ts';

/**
 * The portable table: `ps`, as on macOS and the BSDs, which have no /proc. Each question starts
 * a ps (a few milliseconds). Start times have a one-second resolution, enough to tell a process
 * from a later one that got its pid.
 */
export const psTable: ProcessTable = {
  name: 'ps',

  read(pid) {
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    // lstart is five words: "Tue Dec  1 15:12:27 2026" (C locale; UTC, so it never shifts).
    const words = ps(['-o', 'lstart=', '-o', 'stat=', '-o', 'pgid=', '-o', 'ppid=', '-p', String(pid)]).trim().split(/\s+/);
    if (words.length !== 8) return undefined;
    const [state, processGroup, parent] = words.slice(5);
    return { state: state!.charAt(0), startTime: `ps:${words.slice(0, 5).join(' ')}`, processGroup: Number(processGroup), parent: Number(parent) } satisfies ProcessEntry;
  },

  commandLine(pid) {
    // ps shows the arguments joined by spaces: an argument that contains a space is split here.
    const line = ps(['-ww', '-o', 'command=', '-p', String(pid)]).trim();
    return line ? line.split(/\s+/) : [];
  },

  withEnvironment(variable, matches) {
    const prefix = `${variable}=`;
    const found: number[] = [];
    for (const line of ps(['-A', '-ww', '-o', 'pid=', '-o', 'command=', ...environmentFlag()]).split('\n')) {
      // The environment follows the command as NAME=value words; a value with a space is cut at it.
      const words = line.trim().split(/\s+/);
      const setting = words.find((word) => word.startsWith(prefix));
      if (setting !== undefined && matches(setting.slice(prefix.length))) found.push(Number(words[0]));
    }
    return found;
  },
};

/** How this system's ps appends each process's environment to its command. */
function environmentFlag(): string[] {
  if (process.platform === 'darwin') return ['-E'];
  if (process.platform === 'linux') return ['e']; // procps, BSD-style modifier
  return ['-e']; // FreeBSD, NetBSD, OpenBSD
}

function ps(args: string[]): string {
  // Loaded on use, not imported: tptctl's bundle loads child_process lazily, and only this fallback needs spawnSync.
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const result = spawnSync('ps', args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' } });
  // ps exits 1 when no process matched.
  return result.status === 0 ? result.stdout : '';
}
