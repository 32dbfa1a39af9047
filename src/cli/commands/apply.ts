/**
 * `cnm apply -f FILE` and `cnm delete -f FILE`: a whole topology (networks, sandboxes with their endpoints,
 * containers) in one process, declaratively (see src/cli/apply/ and schemas/topology.schema.json).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors';
import { globalsOf, subcommand } from '../command-module';
import type { CliContext } from '../context';
import { EXIT_ERROR } from '../errors';

interface FileFlags {
  file: string;
  dryRun?: boolean;
}

function readSource(file: string): { text: string; dir: string } {
  if (file === '-') return { text: readFileSync(0, 'utf8'), dir: process.cwd() };
  try {
    return { text: readFileSync(file, 'utf8'), dir: path.dirname(path.resolve(file)) };
  } catch (err) {
    throw new InvalidArgumentError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** A progress line on a terminal for runs of more than a few dozen steps. */
function progressLine(ctx: CliContext): ((done: number, total: number, what: string) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total, what) => ctx.stderr(`\r\x1b[K[${done}/${total}] ${what}${done === total ? '\n' : ''}`);
}

async function run(ctx: CliContext, cmd: Command, mode: 'apply' | 'delete'): Promise<void> {
  const f = cmd.opts<FileFlags>();
  const g = globalsOf(cmd);
  const { text, dir } = readSource(f.file);
  const [{ parseTopology }, plan, exec] = [
    require('../apply/topology') as typeof import('../apply/topology.js'),
    require('../apply/plan') as typeof import('../apply/plan.js'),
    require('../apply/execute') as typeof import('../apply/execute.js'),
  ];
  const topology = await parseTopology(text, f.file, dir);
  const engine = await ctx.engine(g);
  const runner = await ctx.runner(g);
  const deps = { engine, runner, store: runner.store };
  if (mode === 'apply') exec.checkTopology(topology, engine);
  // finish or roll back what an interrupted earlier run (or anything else) left half-made
  if (!f.dryRun) await engine.gc();
  const current = await exec.currentState(deps, topology.project);
  const steps = mode === 'apply' ? plan.planApply(topology, current) : plan.planDelete(topology, current);
  const changes = steps.filter((s) => s.action !== 'keep');
  if (f.dryRun) {
    for (const s of steps) ctx.stdout(`${plan.describeStep(s)}\n`);
    ctx.stdout(changes.length === 0 ? 'nothing to change\n' : `${changes.length} change${changes.length === 1 ? '' : 's'} planned (dry run: nothing done)\n`);
    return;
  }
  if (changes.length === 0) {
    ctx.stdout(mode === 'apply' ? `nothing to change: ${steps.length} object${steps.length === 1 ? '' : 's'} up to date\n` : 'nothing to remove\n');
    return;
  }
  // a long run on a terminal shows one progress line instead of a line per step
  const progress = changes.length > 30 ? progressLine(ctx) : undefined;
  const report = progress ? () => undefined : (line: string) => ctx.stdout(`${line}\n`);
  const result = await exec.runPlan({ ...deps, report, progress }, topology, steps, mode);
  const line = exec.summary(steps, result, mode);
  if (result.failed) {
    ctx.stderr(`cnm: ${mode} ${f.file}: ${line}\nhint: fix the cause and apply again: what is done stays, the rest follows\n`);
    ctx.exitCode = EXIT_ERROR;
    return;
  }
  ctx.stdout(`${line}\n`);
}

export function register(program: Command, ctx: CliContext): void {
  subcommand(program, 'apply', 'make the host match a topology file (networks, sandboxes, endpoints, containers)')
    .requiredOption('-f, --file <file>', 'YAML or JSON topology (- for stdin); schema: schemas/topology.schema.json')
    .option('--dry-run', 'print the plan (create / keep / re-create / remove) and change nothing')
    .action(async function (this: Command) {
      await run(ctx, this, 'apply');
    });
  subcommand(program, 'delete', 'remove what a topology file describes, and nothing else')
    .requiredOption('-f, --file <file>', 'YAML or JSON topology (- for stdin)')
    .option('--dry-run', 'print what would be removed and change nothing')
    .action(async function (this: Command) {
      await run(ctx, this, 'delete');
    });
}
