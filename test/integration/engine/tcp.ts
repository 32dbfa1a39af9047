/** Tiny TCP server/client run with `ip netns exec NS node -e ...`, to prove data flows both ways. */
import { spawn } from 'node:child_process';
import { inNetns } from './helpers';

/** Start a server in `ns` that answers "pong:<data>" once; resolves when it listens, with a stop function. */
export async function startEchoServer(ns: string, host: string, port: number): Promise<{ done: Promise<string>; stop(): void }> {
  const code =
    `const s=require('net').createServer(c=>{c.once('data',d=>{c.end('pong:'+d);s.close();process.stdout.write('got:'+d)})});` +
    `s.listen(${port},${JSON.stringify(host)},()=>process.stderr.write('listening\\n'))`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => String(d).includes('listening') && resolve());
    child.on('exit', (c) => reject(new Error(`server in ${ns} exited ${c}`)));
  });
  const done = new Promise<string>((resolve) => child.on('exit', () => resolve(out)));
  return { done, stop: () => child.kill('SIGKILL') };
}

/** Connect from `ns` to host:port, send `msg`, resolve the reply (or the error text). */
export async function tcpRequest(ns: string, host: string, port: number, msg: string, timeoutMs = 3000): Promise<string> {
  const code =
    `const c=require('net').connect({host:${JSON.stringify(host)},port:${port},timeout:${timeoutMs}},()=>c.write(${JSON.stringify(msg)}));` +
    `let r='';c.on('data',d=>r+=d);c.on('end',()=>{process.stdout.write(r)});c.on('timeout',()=>{process.stdout.write('ERR:timeout');process.exit(3)});` +
    `c.on('error',e=>{process.stdout.write('ERR:'+e.code);process.exit(2)})`;
  const r = await inNetns(ns, [process.execPath, '-e', code], timeoutMs + 5000);
  return r.stdout;
}
