/**
 * `webgpu-rl train`: flags generated from CONFIG_SCHEMA, a run folder with config, metrics, checkpoint
 * and plots, an evaluation of fresh episodes, and on --json one summary object as the last line.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { encodeCheckpoint } from '../src/checkpoint.ts';
import { CONFIG_SCHEMA, ConfigError, kebab, parseField, validateConfig, type TrainConfig } from '../src/config.ts';
import { TrainingSession, evaluate, type TrainMetrics } from '../src/trainer/train.ts';
import { maxTrainEnvs } from '../src/trainer/gpu-trainer.ts';
import { writeFileAtomic } from './files.ts';
import { writePlots } from './plots.ts';
import { fail, openGpu, UsageError } from './util.ts';

const RUN_FLAGS = {
  out: { type: 'string', doc: 'run folder (default runs/<env>__<algo>__<seed>__<time>)' },
  config: { type: 'string', doc: 'JSON file of config fields; flags override it' },
  json: { type: 'boolean', doc: 'print one JSON summary as the last stdout line' },
  'no-plots': { type: 'boolean', doc: 'skip the SVG/PNG plots' },
} as const;

export function trainUsage(): string {
  const lines = Object.entries(CONFIG_SCHEMA).map(([name, spec]) => {
    const values = spec.kind === 'choice' ? spec.choices.join('|') : spec.kind === 'bool' ? 'true|false' : spec.kind === 'int' ? 'N' : 'X';
    const flag = `--${kebab(name)} ${values}`;
    return `  ${flag.padEnd(34)} ${spec.doc} (default ${spec.default ?? 'env threshold'})`;
  });
  const run = Object.entries(RUN_FLAGS).map(([name, f]) => `  ${`--${name}${f.type === 'string' ? ' PATH' : ''}`.padEnd(34)} ${f.doc}`);
  return `usage: webgpu-rl train [options]\n\n${lines.join('\n')}\n${run.join('\n')}\n`;
}

export interface TrainArgs {
  config: TrainConfig;
  out: string | null;
  json: boolean;
  plots: boolean;
}

/** Parses and validates every flag before any GPU work; throws UsageError with one line. */
export function parseTrainArgs(argv: string[]): TrainArgs {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const name of Object.keys(CONFIG_SCHEMA)) options[kebab(name)] = { type: 'string' };
  for (const [name, f] of Object.entries(RUN_FLAGS)) options[name] = { type: f.type };
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
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see webgpu-rl train --help)`);
  }
  try {
    let fromFile: Partial<Record<keyof TrainConfig, unknown>> = {};
    if (typeof values.config === 'string') {
      let text: string;
      try {
        text = readFileSync(values.config, 'utf8');
      } catch (error) {
        throw new ConfigError(`--config: cannot read ${values.config}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      try {
        fromFile = JSON.parse(text);
      } catch {
        throw new ConfigError(`--config: ${values.config} is not valid JSON`);
      }
      if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) throw new ConfigError(`--config: ${values.config} must hold a JSON object`);
    }
    const fromFlags: Partial<Record<keyof TrainConfig, unknown>> = {};
    for (const name of Object.keys(CONFIG_SCHEMA) as (keyof TrainConfig)[]) {
      const text = values[kebab(name)];
      if (typeof text === 'string') fromFlags[name] = parseField(name, text);
    }
    const config = validateConfig({ ...fromFile, ...fromFlags });
    return { config, out: typeof values.out === 'string' ? values.out : null, json: Boolean(values.json), plots: !values['no-plots'] };
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

const METRIC_COLUMNS: (keyof TrainMetrics)[] = [
  'globalStep', 'updates', 'wallSeconds', 'sps', 'episodicReturn', 'episodicLength', 'episodesFinished',
  'meanReturn100', 'policyLoss', 'valueLoss', 'entropy', 'explainedVariance', 'gradNorm',
];

function runFolderName(config: TrainConfig): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${config.env}__${config.algo}__${config.seed}__${time}`;
}

export async function trainCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(trainUsage());
    return;
  }
  const args = parseTrainArgs(argv);
  const { config } = args;
  const ctx = await openGpu();
  const maxEnvs = maxTrainEnvs(ctx.device, config.nSteps);
  if (config.numEnvs > maxEnvs) {
    throw new UsageError(
      `--num-envs ${config.numEnvs} does not fit this adapter with --n-steps ${config.nSteps} (maxStorageBufferBindingSize ${ctx.device.limits.maxStorageBufferBindingSize} bytes); the largest --num-envs that fits is ${maxEnvs}`,
    );
  }
  const runDir = resolve(args.out ?? join('runs', runFolderName(config)));
  mkdirSync(runDir, { recursive: true });
  if (existsSync(join(runDir, 'checkpoint.safetensors')) && args.out) {
    throw new UsageError(`--out ${args.out} already holds a run (checkpoint.safetensors); choose another folder`);
  }
  writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const csv = createWriteStream(join(runDir, 'metrics.csv'));
  const jsonl = createWriteStream(join(runDir, 'metrics.jsonl'));
  csv.write(`${METRIC_COLUMNS.join(',')}\n`);

  const tty = process.stderr.isTTY && !args.json;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: 'train |{bar}| {percentage}% | {value}/{total} steps | {sps} steps/s | return100 {ret}', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let lastLog = 0;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (!args.json || !tty) log(`webgpu-rl train: ${config.env} ${config.algo}, ${config.numEnvs} envs x ${config.nSteps} steps, on ${ctx.adapterName}; run folder ${runDir}`);

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);

  const session = new TrainingSession(ctx, config, {
    onMetrics(m) {
      csv.write(`${METRIC_COLUMNS.map((k) => (Number.isFinite(m[k]) ? String(m[k]) : '')).join(',')}\n`);
      jsonl.write(`${JSON.stringify(m)}\n`);
      if (bar) bar.update(Math.min(m.globalStep, config.totalSteps), { sps: Math.round(m.sps), ret: m.meanReturn100.toFixed(1) });
      else if (m.wallSeconds - lastLog >= 2) {
        lastLog = m.wallSeconds;
        log(
          `globalStep=${m.globalStep} sps=${Math.round(m.sps)} episodicReturn=${m.meanReturn100.toFixed(1)} episodicLength=${m.episodicLength.toFixed(1)} ` +
            `policyLoss=${m.policyLoss.toFixed(4)} valueLoss=${m.valueLoss.toFixed(4)} entropy=${m.entropy.toFixed(4)}`,
        );
      }
    },
  });
  bar?.start(config.totalSteps, 0, { sps: 0, ret: '0.0' });
  session.initialize();
  const trainStart = performance.now();
  let stopReason: string | null = null;
  while ((stopReason = session.stopReason()) === null && !interrupted) await session.step();
  await session.drain();
  stopReason = session.stopReason() ?? (interrupted ? 'interrupted' : 'totalSteps');
  const trainSeconds = (performance.now() - trainStart) / 1000;
  bar?.stop();
  ctx.throwIfErrors();

  const state = await session.readState();
  const envSlots = await session.trainer.readEnvSlots();
  writeFileAtomic(
    join(runDir, 'checkpoint.safetensors'),
    encodeCheckpoint({ config, update: session.update, envSteps: session.envSteps, ...state, envSlots }),
  );
  const evaluation = config.evalEpisodes > 0 ? await evaluate(ctx, session.trainer, config.evalEpisodes, false) : null;
  const wallSeconds = process.uptime();
  await Promise.all([new Promise((r) => csv.end(r)), new Promise((r) => jsonl.end(r))]);
  if (args.plots) await writePlots(runDir, config.env, session.returns);
  const summary = {
    solved: session.solved,
    envSteps: session.envSteps,
    updates: session.update,
    wallSeconds: Number(wallSeconds.toFixed(3)),
    meanReturn100: Number(session.meanReturn100.toFixed(2)),
    evalMeanReturn: evaluation ? Number(evaluation.meanReturn.toFixed(2)) : null,
    sps: Math.round(session.envSteps / trainSeconds),
    runDir,
  };
  writeFileAtomic(join(runDir, 'summary.json'), `${JSON.stringify({ ...summary, stopReason, evalStdReturn: evaluation?.stdReturn ?? null }, null, 2)}\n`);
  session.destroy();
  ctx.destroy();
  process.off('SIGINT', onSigint);
  if (stopReason === 'nonFinite') {
    fail(new Error(`training stopped: non-finite loss or gradient at update ${session.nonFiniteUpdate}; the checkpoint holds the last good parameters`));
  }
  if (!args.json) {
    log(
      `${session.solved ? 'solved' : `stopped (${stopReason})`}: ${session.envSteps} env steps, ${session.update} updates, ${summary.sps} steps/s, ` +
        `mean return (last 100) ${summary.meanReturn100}` +
        (evaluation ? `, evaluation over ${config.evalEpisodes} fresh episodes ${evaluation.meanReturn.toFixed(1)} ± ${evaluation.stdReturn.toFixed(1)}` : '') +
        `, ${summary.wallSeconds.toFixed(2)} s since start`,
    );
  }
  console.log(args.json ? JSON.stringify(summary) : `run folder: ${runDir}`);
  if (interrupted) process.exit(130);
}
