/** Waiting for a condition instead of sleeping: polls `cond` until it holds, and fails naming `what` when it never does. */

export interface WaitOptions {
  /** give up after this long (default 10 s) */
  timeoutMs?: number;
  /** between polls (default 50 ms) */
  intervalMs?: number;
  /** a reason to stop at once (a process that exited, say): thrown with `what` */
  failFast?: () => string | undefined;
}

export const nextPoll = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, opts: WaitOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fatal = opts.failFast?.();
    if (fatal) throw new Error(`${what}: ${fatal}`);
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await nextPoll(opts.intervalMs ?? 50);
  }
}
