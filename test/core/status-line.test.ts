/** The one-line Status the conditions give (src/model/conditions.ts). */
import { describe, expect, it } from 'vitest';
import { statusLine, type Condition } from '../../src/model/conditions.ts';

const at = new Date(0).toISOString();
const reconciled = (generation: number, status: Condition['Status'] = 'True', reason = 'Reconciled', message?: string): Condition => ({ Type: 'Reconciled', Status: status, Reason: reason, LastTransitionTime: at, ObservedGeneration: generation, ...(message && { Message: message }) });
const healthy = (generation: number | undefined, reason = 'Healthy', message = '3 resource(s) ready'): Condition => ({ Type: 'Healthy', Status: reason === 'Healthy' ? 'True' : 'False', Reason: reason, Message: message, LastTransitionTime: at, ...(generation !== undefined && { ObservedGeneration: generation }) });

describe('status line', () => {
  it('the runtime’s error or wait first, then the domain’s summary, then the runtime’s success', () => {
    expect(statusLine([reconciled(2, 'False', 'Error', 'cannot reach the cluster'), healthy(2)], 'Healthy')).toBe('Error: cannot reach the cluster');
    expect(statusLine([reconciled(2), healthy(2, 'Down', 'Deployment web: 0/1 ready')], 'Healthy')).toBe('Down: Deployment web: 0/1 ready');
    expect(statusLine([reconciled(2)], 'Healthy')).toBe('Reconciled');
    expect(statusLine([], 'Healthy')).toBeUndefined();
  });

  it('health of an earlier generation than the one applied is not shown as current', () => {
    expect(statusLine([reconciled(3), healthy(2)], 'Healthy')).toBe('Reconciling: generation 3 applied, waiting for its live state');
    expect(statusLine([reconciled(3), healthy(3)], 'Healthy')).toBe('Healthy: 3 resource(s) ready');
    // A domain condition without a generation (a runtime's Ready) is current whenever written.
    expect(statusLine([reconciled(3), healthy(undefined)], 'Healthy')).toBe('Healthy: 3 resource(s) ready');
  });
});
