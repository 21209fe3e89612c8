/** The drift damper on its own clock: when threeport stops fighting over a resource, and when it resumes. */
import { describe, expect, it } from 'vitest';
import { DriftDamper } from '../../src/controllers/workload/drift-damper.ts';

describe('drift damper', () => {
  const minutes = (n: number) => n * 60_000;

  it('corrections go on until the limit within the window; then each waits the pause after the previous one', () => {
    let now = 0;
    const damper = new DriftDamper({ limit: 3, windowMs: minutes(10), pauseMs: minutes(5) }, () => now);
    expect(damper.pausedFor('a')).toBe(0);
    expect(damper.corrected('a')).toBe(false);
    now = minutes(1);
    expect(damper.corrected('a')).toBe(false);
    now = minutes(2);
    expect(damper.pausedFor('a')).toBe(0);
    // The third within ten minutes: the time to warn, and the pauses begin.
    expect(damper.corrected('a')).toBe(true);
    now = minutes(3);
    expect(damper.pausedFor('a')).toBe(minutes(4));
    expect(damper.pausedFor('b')).toBe(0);
    now = minutes(7);
    expect(damper.pausedFor('a')).toBe(0);
    // Still fighting: corrected once per pause, without a new warning each time.
    expect(damper.corrected('a')).toBe(false);
    now = minutes(8);
    expect(damper.pausedFor('a')).toBe(minutes(4));
  });

  it('a resource left alone long enough is corrected at once again', () => {
    let now = 0;
    const damper = new DriftDamper({ limit: 2, windowMs: minutes(10), pauseMs: minutes(5) }, () => now);
    damper.corrected('a');
    now = minutes(1);
    damper.corrected('a');
    expect(damper.pausedFor('a')).toBeGreaterThan(0);
    now = minutes(30);
    expect(damper.pausedFor('a')).toBe(0);
    expect(damper.corrected('a')).toBe(false);
  });

  it('forgets an instance’s resources', () => {
    let now = 0;
    const damper = new DriftDamper({ limit: 1 }, () => now);
    damper.corrected('7|apps/Deployment/ns/web');
    now = 1;
    expect(damper.pausedFor('7|apps/Deployment/ns/web')).toBeGreaterThan(0);
    damper.forget('7|');
    expect(damper.pausedFor('7|apps/Deployment/ns/web')).toBe(0);
  });
});
