/**
 * Running a synchronous step with the main thread inside another network namespace.
 * setns(2) moves only the calling thread; because `fn` is synchronous no other JS (and no callback)
 * can run in the wrong netns. The thread always goes back, or we fail loudly.
 */
import * as fs from 'node:fs';
import { InternalError } from '../core/errors';
import { setns } from './ffi';

/** The calling thread's own netns (not /proc/self, which is the main thread's only by accident). */
export const THREAD_NETNS = '/proc/thread-self/ns/net';

/** Run `fn` with the calling thread in the netns behind `fd`, then switch back. */
export function inNetnsSync<T>(fd: number, fn: () => T): T {
  const home = fs.openSync(THREAD_NETNS, 'r');
  try {
    setns(fd);
    try {
      return fn();
    } finally {
      returnHome(home);
    }
  } finally {
    fs.closeSync(home);
  }
}

/** setns back to `home`; if that fails the process is in an unknown netns and must not go on. */
export function returnHome(home: number): void {
  try {
    setns(home);
  } catch (err) {
    const e = new InternalError('could not switch the main thread back to its own netns; exiting to avoid configuring the wrong netns', { cause: err });
    // Continuing would apply later netlink/sysctl calls to the wrong namespace.
    process.exitCode = 70;
    throw e;
  }
}
