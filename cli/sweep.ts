/**
 * `webgpu-rl sweep --spec sweep.json`: grid and random search × seeds (src/sweep.ts), each group of agents
 * that share their shapes trained in one session (cli/sweep-run.ts), one after another; results, summary
 * and plots (cli/sweep-output.ts). `--shard K/N` (or a scheduler's variables) runs a slice;
 * `webgpu-rl sweep merge DIR…` joins the slices. Everything is checked before any GPU work.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { CONFIG_SCHEMA, ConfigError, kebab, parseField, type ConfigField } from '../src/config.ts';
import { envSpec } from '../src/envs/registry.ts';
import { maxTrainEnvs } from '../src/trainer/gpu-trainer.ts';
import { GpuError } from '../src/trainer/train.ts';
import {
  expandSweep, logScaleFields, parseSweepSpec, sweepBase, sweepBatches, sweepGroups, sweepHash, sweptFields,
  storageCap, SWEEP_FORMAT, type SweepAgent, type SweepBatch, type SweepSpec,
} from '../src/sweep.ts';
import { resolveShard, shardOf, type Shard } from '../src/sweep-shard.ts';
import { checkUserEnv, ENV_MODULE_FLAG_DOC, loadEnvModule } from './env-module.ts';
import { writeFileAtomic } from './files.ts';
import { agentDone, finishSweep, mergeCommand, readMeta, type SweepMeta } from './sweep-output.ts';
import { runBatch } from './sweep-run.ts';
import { openGpu, UsageError } from './util.ts';

const SWEEP_FLAGS = {
  spec: { type: 'string', arg: 'FILE', doc: 'the sweep spec (JSON: base, grid, random, seeds, shards; README "Sweeps")' },
  out: { type: 'string', arg: 'DIR', doc: 'sweep folder (default runs/sweep__<hash>__<time>, with __shard<K>of<N> for a shard)' },
  shard: { type: 'string', arg: 'K/N', doc: "run shard K of N (K from 0); default: the scheduler's variables (Slurm, AWS Batch, Kubernetes), else all agents" },
  'shard-count': { type: 'string', arg: 'N', doc: 'N where the scheduler gives only the index (JOB_COMPLETION_INDEX); default: the spec\'s "shards"' },
  resume: { type: 'boolean', arg: '', doc: 'continue the sweep in --out: finished sessions are kept, an unfinished one continues from its checkpoint (a folder without sweep.json starts)' },
  'save-every': { type: 'string', arg: 'K', doc: "save each session's checkpoint every K updates (at the next metrics report), for --resume after a kill (default 0: never)" },
  'env-module': { type: 'string', arg: 'PATH', doc: ENV_MODULE_FLAG_DOC },
  json: { type: 'boolean', arg: '', doc: 'print one JSON summary as the last stdout line' },
  'no-plots': { type: 'boolean', arg: '', doc: 'skip the SVG/PNG plots' },
} as const;

export function sweepUsage(): string {
  const own = Object.entries(SWEEP_FLAGS).map(([name, f]) => `  ${`--${name} ${f.arg}`.padEnd(30)} ${f.doc}`);
  return (
    `usage: webgpu-rl sweep --spec FILE [--out DIR] [--shard K/N] [--resume] [--save-every K] [--json] [--no-plots] [train options]\n` +
    `       webgpu-rl sweep merge DIR… [--out DIR] [--json] [--no-plots]\n\n` +
    `${own.join('\n')}\n` +
    `  every config option of train (--env, --total-steps, …; webgpu-rl train --help) sets the base all agents share, over the spec's "base";\n` +
    `  a swept field, --seed, --num-agents and --stop-on-target cannot be given.\n`
  );
}

export interface SweepArgs {
  specPath: string;
  spec: SweepSpec;
  /** Every agent of the sweep, canonical order. */
  agents: SweepAgent[];
  /** This process's agents (a shard's slice, or all). */
  mine: SweepAgent[];
  shard: (Shard & { from: string }) | null;
  hash: string;
  out: string;
  resume: boolean;
  saveEvery: number;
  json: boolean;
  plots: boolean;
}

function readSpec(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`--spec: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`--spec: ${path} is not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
}

/** Parses every flag, the spec, the shard and an existing folder; throws UsageError with one line. No GPU. */
export function parseSweepArgs(argv: string[], env: Record<string, string | undefined>): SweepArgs {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const name of Object.keys(CONFIG_SCHEMA)) options[kebab(name)] = { type: 'string' };
  for (const [name, f] of Object.entries(SWEEP_FLAGS)) options[name] = { type: f.type };
  // parseArgs reads "--gamma -1" as two options; join a negative number to its flag so it gets validated.
  const args: string[] = [];
  for (const arg of argv) {
    const previous = args.at(-1);
    if (/^-(\d|\.\d|Inf)/.test(arg) && previous?.startsWith('--') && !previous.includes('=')) args[args.length - 1] = `${previous}=${arg}`;
    else args.push(arg);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see webgpu-rl sweep --help)`);
  }
  try {
    if (typeof values.spec !== 'string') throw new ConfigError('sweep needs --spec FILE (see webgpu-rl sweep --help)');
    const specPath = values.spec;
    const flags: Partial<Record<ConfigField, unknown>> = {};
    if (typeof values['env-module'] === 'string') flags.env = loadEnvModule(values['env-module']).id;
    for (const name of Object.keys(CONFIG_SCHEMA) as ConfigField[]) {
      const text = values[kebab(name)];
      if (typeof text === 'string') flags[name] = parseField(name, text);
    }
    const spec = parseSweepSpec(readSpec(specPath), specPath);
    const agents = expandSweep(spec, sweepBase(spec, flags, specPath));
    const shard = resolveShard({ shard: values.shard as string | undefined, shardCount: values['shard-count'] as string | undefined }, env, spec.shards);
    if (shard && shard.count > agents.length) throw new ConfigError(`${shard.from}: ${shard.count} shards for ${agents.length} agents; use at most ${agents.length}`);
    const saveText = values['save-every'];
    const saveEvery = saveText === undefined ? 0 : Number(saveText);
    if (!Number.isInteger(saveEvery) || saveEvery < 0) throw new ConfigError(`--save-every must be a whole number of updates (0: never); got "${saveText}"`);
    const hash = sweepHash(agents);
    const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    const out = resolve(
      typeof values.out === 'string' ? values.out : join('runs', `sweep__${hash.slice(0, 8)}__${time}${shard ? `__shard${shard.index}of${shard.count}` : ''}`),
    );
    const resume = Boolean(values.resume);
    if (resume && typeof values.out !== 'string') throw new ConfigError('--resume continues the sweep in --out DIR: name the folder');
    checkFolder(out, hash, shard, resume);
    return { specPath, spec, agents, mine: shard ? shardOf(agents, shard) : agents, shard, hash, out, resume, saveEvery, json: Boolean(values.json), plots: !values['no-plots'] };
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** A folder that already holds a sweep: refused without --resume, and with it unless the spec and shard match. */
function checkFolder(out: string, hash: string, shard: Shard | null, resume: boolean): void {
  if (!existsSync(join(out, 'sweep.json'))) return;
  if (!resume) throw new ConfigError(`--out ${out} already holds a sweep (sweep.json); continue it with --resume, or choose another folder`);
  const meta = readMeta(out);
  if (meta.hash !== hash) throw new ConfigError(`--resume: ${out} holds a sweep of another spec (hash ${meta.hash}; this spec and flags give ${hash})`);
  const name = (s: Shard | null) => (s ? `shard ${s.index}/${s.count}` : 'the whole sweep');
  if ((meta.shard?.index ?? -1) !== (shard?.index ?? -1) || (meta.shard?.count ?? -1) !== (shard?.count ?? -1)) {
    throw new ConfigError(`--resume: ${out} holds ${name(meta.shard)}; this run is ${name(shard)}`);
  }
}

/** A line naming what the agents share (for summary.md): env, algo and budget, unless swept. */
function describeBase(agents: SweepAgent[], fields: string[]): string {
  const c = agents[0].config;
  const parts = [
    fields.includes('env') ? 'env per configuration' : c.env,
    fields.includes('algo') ? null : c.algo,
    fields.includes('numEnvs') || fields.includes('nSteps') ? null : `${c.numEnvs} envs × ${c.nSteps} steps per update`,
    fields.includes('totalSteps') ? null : `${c.totalSteps} env steps per agent`,
    fields.includes('evalEpisodes') ? null : `evaluation over ${c.evalEpisodes} fresh episodes`,
  ];
  return parts.filter((p) => p !== null).join(', ');
}

/** A bar over agents × env steps on a terminal; a log line per session and every few seconds otherwise. */
class SweepProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly total: number;
  private stepsDone = 0;
  private agentsDone = 0;
  /** Agent-steps trained by this process (a resumed session's earlier steps are not), for steps/s. */
  private trainedHere = 0;
  private lastSteps: number | null = null;
  private lastLog = performance.now();
  private readonly start = performance.now();

  constructor(agents: SweepAgent[], private readonly sessions: number, tty: boolean, private readonly write: (line: string) => void) {
    this.total = agents.reduce((n, a) => n + SweepProgress.budget(a), 0);
    this.bar = tty
      ? new cliProgress.SingleBar(
          { format: 'sweep |{bar}| {percentage}% | agents {agentsDone}/{agents} | session {batch}/{batches} | {sps} steps/s', hideCursor: true, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        )
      : null;
    this.bar?.start(this.total, 0, { agentsDone: 0, agents: agents.length, batch: 0, batches: sessions, sps: 0 });
  }

  /** The env steps an agent takes: whole updates up to its totalSteps. */
  static budget(a: SweepAgent): number {
    const rows = a.config.numEnvs * a.config.nSteps;
    return Math.ceil(a.config.totalSteps / rows) * rows;
  }

  log(line: string): void {
    if (!this.bar) this.write(line);
  }

  starting(batch: SweepBatch): void {
    this.lastSteps = null;
    const ids = `${batch.agents[0].id}${batch.agents.length > 1 ? ` … ${batch.agents.at(-1)!.id}` : ''}`;
    this.log(`session ${batch.index + 1}/${this.sessions}: ${batch.agents.length} agents (${ids})`);
  }

  /** The first call of a session comes before training (0, or where a resumed session starts). */
  update(batch: SweepBatch, agentSteps: number): void {
    if (this.lastSteps !== null) this.trainedHere += (agentSteps - this.lastSteps) * batch.agents.length;
    this.lastSteps = agentSteps;
    const value = this.stepsDone + agentSteps * batch.agents.length;
    const sps = Math.round(this.trainedHere / Math.max((performance.now() - this.start) / 1000, 1e-3));
    if (this.bar) this.bar.update(value, { agentsDone: this.agentsDone, batch: batch.index + 1, sps });
    else if (performance.now() - this.lastLog > 5000) {
      this.lastLog = performance.now();
      this.write(`  ${value}/${this.total} agent-steps (${((100 * value) / this.total).toFixed(0)}%), ${sps} steps/s`);
    }
  }

  finished(batch: SweepBatch): void {
    this.stepsDone += batch.agents.reduce((n, a) => n + SweepProgress.budget(a), 0);
    this.agentsDone += batch.agents.length;
    this.bar?.update(this.stepsDone, { agentsDone: this.agentsDone, batch: batch.index + 1 });
  }

  stop(): void {
    this.bar?.stop();
  }
}

export async function sweepCommand(argv: string[]): Promise<void> {
  if (argv[0] === 'merge') return mergeCommand(argv.slice(1));
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(sweepUsage());
    return;
  }
  const start = performance.now();
  const args = parseSweepArgs(argv, process.env);
  const ctx = await openGpu();
  for (const env of new Set(args.mine.map((a) => a.config.env))) await checkUserEnv(ctx, envSpec(env));
  for (const agent of args.mine) {
    const max = maxTrainEnvs(ctx.device, agent.config.nSteps, 1, agent.config.env);
    if (agent.config.numEnvs > max) throw new UsageError(`${agent.id}: --num-envs ${agent.config.numEnvs} does not fit this adapter with --n-steps ${agent.config.nSteps}; the largest that fits is ${max}`);
  }
  const batches = sweepBatches(args.mine, storageCap((t, g, env) => maxTrainEnvs(ctx.device, t, g, env)));
  const fields = sweptFields(args.spec);
  mkdirSync(args.out, { recursive: true });
  const meta: SweepMeta = {
    format: SWEEP_FORMAT,
    hash: args.hash,
    shard: args.shard ? { index: args.shard.index, count: args.shard.count } : null,
    fields,
    logFields: logScaleFields(args.spec),
    description: describeBase(args.agents, fields),
    configurations: new Set(args.agents.map((a) => a.configuration)).size,
    groups: sweepGroups(args.agents).length,
    allAgents: args.agents.map((a) => a.id),
    agents: args.mine.map((a) => a.id),
    spec: args.spec,
  };
  if (!existsSync(join(args.out, 'sweep.json'))) writeFileAtomic(join(args.out, 'sweep.json'), `${JSON.stringify(meta, null, 2)}\n`);

  const log = (line: string) => process.stderr.write(`${line}\n`);
  const shardText = args.shard ? `shard ${args.shard.index}/${args.shard.count} (${args.shard.from}): ` : '';
  log(`webgpu-rl sweep: ${shardText}${args.mine.length} of ${args.agents.length} agents (${meta.configurations} configurations × ${args.spec.seeds.length} seeds) in ${batches.length} session${batches.length === 1 ? '' : 's'}, on ${ctx.adapterName}; sweep folder ${args.out}`);

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const progress = new SweepProgress(args.mine, batches.length, process.stderr.isTTY && !args.json, log);
  const resumeLine = `webgpu-rl sweep --spec ${args.specPath} --out ${args.out} --resume${args.shard ? ` --shard ${args.shard.index}/${args.shard.count}` : ''}`;
  for (const batch of batches) {
    if (batch.agents.every((a) => agentDone(args.out, a.id))) {
      progress.finished(batch);
      continue;
    }
    progress.starting(batch);
    let result: Awaited<ReturnType<typeof runBatch>>;
    try {
      result = await runBatch({
        ctx,
        outDir: args.out,
        batch,
        resume: args.resume,
        saveEvery: args.saveEvery,
        log: (line) => progress.log(line),
        interrupted: () => interrupted,
        onProgress: (agentSteps) => progress.update(batch, agentSteps),
      });
    } catch (error) {
      if (!(error instanceof GpuError)) throw error;
      progress.stop();
      const saved = args.saveEvery > 0 ? 'its last periodic checkpoint' : 'its start (no --save-every)';
      throw new Error(`${error.message}. Finished agents are kept; the session continues from ${saved} with: ${resumeLine}`);
    }
    if (result.interrupted) {
      progress.stop();
      log(`interrupted: the unfinished session is saved; continue with ${resumeLine}`);
      process.exit(130);
    }
    progress.finished(batch);
    progress.log(`  done in ${result.wallSeconds.toFixed(1)} s: best final return (last 100) ${Math.max(...result.rows.map((r) => r.finalMeanReturn100)).toFixed(1)}`);
  }
  progress.stop();
  process.off('SIGINT', onSigint);
  ctx.throwIfErrors();
  ctx.destroy();
  const summary = await finishSweep(args.out, meta, args.plots);
  const line = { ...summary, batches: batches.length, shard: meta.shard ? `${meta.shard.index}/${meta.shard.count}` : null, outDir: args.out, wallSeconds: Number(((performance.now() - start) / 1000).toFixed(3)) };
  if (!args.json) log(`${summary.agents} agents, ${summary.solved} reached their target; best ${summary.best ? `${summary.best.configuration}: median final return ${summary.best.medianFinalMeanReturn100}` : '-'}; ${line.wallSeconds.toFixed(1)} s`);
  console.log(args.json ? JSON.stringify(line) : `sweep folder: ${args.out} (summary.md, results.csv)`);
}
