/**
 * Named points inside the multi-step operations, where a test can make the process die (CNM_CRASH_AT=<step>, see
 * src/wiring.ts) to prove that a crash at exactly that step leaves nothing `cnm gc` cannot clean. In normal runs the
 * points do nothing.
 */

/** Every step of connect and disconnect, in the order they run. */
export const CRASH_STEPS = {
  connect: [
    'connect:claimed',
    'connect:address-v4',
    'connect:address-v6',
    'connect:veth-created',
    'connect:configured',
    'connect:routed',
    'connect:ready',
    'connect:firewall',
  ],
  disconnect: ['disconnect:deleting', 'disconnect:detached', 'disconnect:released', 'disconnect:dropped', 'disconnect:handed-off'],
} as const;

export type CrashStep = (typeof CRASH_STEPS)[keyof typeof CRASH_STEPS][number];

export interface CrashPoints {
  /** The operation has just finished `step`. */
  reached(step: CrashStep): void;
}

export const NO_CRASH_POINTS: CrashPoints = { reached: () => undefined };
