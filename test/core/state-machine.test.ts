import { describe, expect, it } from 'vitest';
import { canTransition, DATABASE_STATES, TRANSITIONS } from '../../src/core/state-machine';

describe('the database state machine', () => {
  it('lists a next state for every state, and only known states', () => {
    for (const from of DATABASE_STATES) for (const to of TRANSITIONS[from]) expect(DATABASE_STATES).toContain(to);
  });
  it('lets a create complete or roll back, and anything live be deleted', () => {
    expect(canTransition('provisioning', 'ready')).toBe(true);
    expect(canTransition('provisioning', 'failed')).toBe(true);
    expect(canTransition('ready', 'deleting')).toBe(true);
    expect(canTransition('deleting', 'deleted')).toBe(true);
    expect(canTransition('deleting', 'deleting')).toBe(true);
  });
  it('never revives what ended, and never skips deleting', () => {
    for (const to of DATABASE_STATES) {
      expect(canTransition('deleted', to)).toBe(false);
      expect(canTransition('failed', to)).toBe(false);
    }
    expect(canTransition('ready', 'deleted')).toBe(false);
    expect(canTransition('ready', 'provisioning')).toBe(false);
    expect(canTransition('deleting', 'ready')).toBe(false);
  });
});
