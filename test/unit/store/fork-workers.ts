/**
 * Runs several worker processes against one database file and collects their results. Workers announce 'ready'
 * and wait for 'go', so all of them start their transactions at the same moment and really contend.
 */

import { fork, type ChildProcess } from 'node:child_process';

export interface WorkerRun<R> {
  results: Promise<R[]>;
  /** Kills every worker still running; safe to call more than once (for afterEach). */
  kill(): void;
}

export function runWorkers<R>(script: string, argsPerWorker: string[][], timeoutMs: number): WorkerRun<R> {
  const children: ChildProcess[] = argsPerWorker.map((args) => fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const kill = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  const results = new Promise<R[]>((resolve, reject) => {
    const out: R[] = new Array(children.length);
    let ready = 0;
    let done = 0;
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`workers did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    children.forEach((child, i) => {
      child.on('message', (msg: { type: string; result?: R }) => {
        if (msg.type === 'ready' && ++ready === children.length) for (const c of children) c.send({ type: 'go' });
        if (msg.type === 'result') out[i] = msg.result as R;
      });
      child.on('exit', (code, signal) => {
        if (code !== 0) {
          clearTimeout(timer);
          kill();
          reject(new Error(`worker ${i} exited with ${code ?? signal}`));
        } else if (++done === children.length) {
          clearTimeout(timer);
          resolve(out);
        }
      });
    });
  });
  return { results, kill };
}

/** Worker side: announce readiness, wait for the go signal, run, send the result, disconnect. */
export function workerMain<R>(run: () => Promise<R>): void {
  process.on('message', (msg: { type: string }) => {
    if (msg.type !== 'go') return;
    run().then(
      (result) => process.send!({ type: 'result', result }, () => process.disconnect()),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
  process.send!({ type: 'ready' });
}
