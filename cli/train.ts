/**
 * `webgpu-rl train`: flags generated from CONFIG_SCHEMA, a run folder with config, metrics, checkpoint
 * and plots, an evaluation of fresh episodes, and on --json one summary object as the last line.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../src/checkpoint.ts';
import { agentSeed, CONFIG_SCHEMA, ConfigError, defaultConfig, kebab, parseField, validateConfig, type ConfigField, type TrainConfig } from '../src/config.ts';
import { GpuError, TrainingSession, evaluate, type TrainMetrics } from '../src/trainer/train.ts';
import { readBuffer } from '../src/gpu/kernel.ts';
import { maxTrainEnvs, METRIC_SLOTS, networkFitProblem, NUM_METRICS } from '../src/trainer/gpu-trainer.ts';
import { envSpec } from '../src/envs/registry.ts';
import { checkUserEnv, ENV_MODULE_FLAG_DOC, loadEnvModule } from './env-module.ts';
import { Sb3Scalars } from '../src/tensorboard.ts';
import { writeFileAtomic } from './files.ts';
import { TensorBoardWriter } from './tensorboard.ts';
import { writePlots } from './plots.ts';
import { openGpu, UsageError } from './util.ts';

const RUN_FLAGS = {
  'env-module': { type: 'string', doc: ENV_MODULE_FLAG_DOC },
  out: { type: 'string', doc: 'run folder (default runs/<env>__<algo>__<seed>__<time>)' },
  config: { type: 'string', doc: 'JSON file of config fields; flags override it' },
  resume: { type: 'string', doc: "continue the run in this folder from its checkpoint (only --total-steps may change)" },
  'save-every': { type: 'string', doc: 'save the checkpoint every K updates as well as at the end (default 0: at the end)' },
  json: { type: 'boolean', doc: 'print one JSON summary as the last stdout line' },
  'no-plots': { type: 'boolean', doc: 'skip the SVG/PNG plots' },
} as const;

export function trainUsage(): string {
  const lines = Object.entries(CONFIG_SCHEMA).map(([name, spec]) => {
    const values = spec.kind === 'choice' ? spec.choices.join('|') : spec.kind === 'bool' ? 'true|false' : spec.kind === 'int' ? 'N' : spec.kind === 'netArch' ? 'W,W|pi=W,W/vf=W,W' : 'X';
    const flag = `--${kebab(name)} ${values}`;
    return `  ${flag.padEnd(34)} ${spec.doc} (default ${spec.default ?? (spec.kind === 'netArch' ? 'one layer of --hidden' : 'env threshold')})`;
  });
  const run = Object.entries(RUN_FLAGS).map(([name, f]) => `  ${`--${name}${f.type === 'string' ? ' PATH' : ''}`.padEnd(34)} ${f.doc}`);
  return `usage: webgpu-rl train [options]\n\n${lines.join('\n')}\n${run.join('\n')}\n`;
}

export interface TrainArgs {
  config: TrainConfig;
  /** Config fields set by a flag or the config file. */
  explicit: (keyof TrainConfig)[];
  out: string | null;
  resume: string | null;
  saveEvery: number;
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
    // A user's env registers first, so that --env (and the config file's env) may name it.
    if (typeof values['env-module'] === 'string') {
      const spec = loadEnvModule(values['env-module']);
      const named = values.env ?? fromFile.env;
      if (named !== undefined && named !== spec.id) throw new ConfigError(`--env ${String(named)} conflicts with --env-module ${values['env-module']}, whose env is "${spec.id}"`);
      fromFlags.env = spec.id;
    }
    for (const name of Object.keys(CONFIG_SCHEMA) as ConfigField[]) {
      const text = values[kebab(name)];
      if (typeof text === 'string') fromFlags[name] = parseField(name, text);
    }
    const config = validateConfig({ ...fromFile, ...fromFlags });
    const saveEveryText = values['save-every'];
    const saveEvery = saveEveryText === undefined ? 0 : Number(saveEveryText);
    if (!Number.isInteger(saveEvery) || saveEvery < 0) throw new ConfigError(`--save-every must be a whole number of updates (0: only at the end); got "${saveEveryText}"`);
    const resume = typeof values.resume === 'string' ? values.resume : null;
    if (resume && (values.out !== undefined || values.config !== undefined)) throw new ConfigError('--resume continues a run in its own folder: drop --out and --config');
    return {
      config,
      explicit: Object.keys({ ...fromFile, ...fromFlags }) as (keyof TrainConfig)[],
      out: typeof values.out === 'string' ? values.out : null,
      resume,
      saveEvery,
      json: Boolean(values.json),
      plots: !values['no-plots'],
    };
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

const METRIC_COLUMNS: (keyof TrainMetrics)[] = [
  'globalStep', 'updates', 'wallSeconds', 'sps', 'episodicReturn', 'episodicLength', 'episodesFinished',
  'meanReturn100', 'policyLoss', 'valueLoss', 'entropy', 'explainedVariance', 'gradNorm',
];
/** PPO's columns after those. */
const PPO_METRIC_COLUMNS: (keyof TrainMetrics)[] = ['approxKl', 'clipFraction', 'epochs'];

function runFolderName(config: TrainConfig): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${config.env}__${config.algo}__${config.seed}__${time}`;
}

/** Test hooks for the reliability tests: WEBGPU_RL_FAULT=nan@U (NaN into a weight) or lose-device@U. */
function faultInjection(): { kind: 'nan' | 'lose-device'; update: number } | null {
  const match = /^(nan|lose-device)@(\d+)$/.exec(process.env.WEBGPU_RL_FAULT ?? '');
  return match ? { kind: match[1] as 'nan' | 'lose-device', update: Number(match[2]) } : null;
}

/** Keeps the rows of a CSV/JSONL log up to `update` (a resumed run rewrites what came after its checkpoint). */
function truncateLog(path: string, keep: (line: string, index: number) => boolean): void {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0);
  writeFileAtomic(path, lines.filter(keep).map((l) => `${l}\n`).join(''));
}

/** Names the tensors holding non-finite values: the loss terms and each gradient tensor. */
async function nonFiniteReport(session: TrainingSession): Promise<{ what: string; paramsBad: boolean }> {
  const { trainer, ctx } = session;
  const agent = session.nonFiniteAgent ?? 0;
  const p = trainer.layout.total;
  const metrics = new Float32Array(await readBuffer(ctx, trainer.buffers.metrics, NUM_METRICS * 4, agent * NUM_METRICS * 4));
  const grads = new Float32Array(await readBuffer(ctx, trainer.buffers.grads, p * 4, agent * p * 4));
  const params = new Float32Array(await readBuffer(ctx, trainer.buffers.params, p * 4, agent * p * 4));
  const bad: string[] = [];
  for (const [name, slot] of [['policy loss', METRIC_SLOTS.policyLoss], ['value loss', METRIC_SLOTS.valueLoss], ['entropy', METRIC_SLOTS.entropy]] as const) {
    if (!Number.isFinite(metrics[slot])) bad.push(name);
  }
  for (const t of trainer.layout.tensors) {
    if (grads.subarray(t.offset, t.offset + t.size).some((v) => !Number.isFinite(v))) bad.push(`gradient of ${t.torchName}`);
    if (params.subarray(t.offset, t.offset + t.size).some((v) => !Number.isFinite(v))) bad.push(`parameter ${t.torchName}`);
  }
  const what = bad.length > 0 ? bad.join(', ') : 'gradient norm';
  return { what: session.config.numAgents > 1 ? `${what} (agent ${agent})` : what, paramsBad: (metrics[METRIC_SLOTS.nonFinite] & 4) !== 0 };
}

export async function trainCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(trainUsage());
    return;
  }
  const args = parseTrainArgs(argv);
  let config = args.config;
  let resumeFrom: Checkpoint | null = null;
  if (args.resume) {
    const path = join(args.resume, 'checkpoint.safetensors');
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new UsageError(`--resume: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    try {
      resumeFrom = decodeCheckpoint(bytes);
    } catch (error) {
      if (error instanceof CheckpointError) throw new UsageError(`--resume: ${path}: ${error.message}`);
      throw error;
    }
    const changed = args.explicit.filter((k) => k !== 'totalSteps' && args.config[k] !== resumeFrom!.config[k]);
    if (changed.length > 0) throw new UsageError(`--resume continues the saved config; only --total-steps may change (got --${kebab(changed[0])})`);
    config = { ...resumeFrom.config, totalSteps: args.config.totalSteps === defaultConfig(resumeFrom.config.algo, resumeFrom.config.env).totalSteps && !args.explicit.includes('totalSteps') ? resumeFrom.config.totalSteps : args.config.totalSteps };
  }
  const ctx = await openGpu();
  await checkUserEnv(ctx, envSpec(config.env));
  const maxEnvs = maxTrainEnvs(ctx.device, config.nSteps, config.numAgents, config.env);
  if (config.numEnvs > maxEnvs) {
    throw new UsageError(
      `--num-envs ${config.numEnvs} does not fit this adapter with --n-steps ${config.nSteps}${config.numAgents > 1 ? ` and --num-agents ${config.numAgents}` : ''} ` +
        `(maxStorageBufferBindingSize ${ctx.device.limits.maxStorageBufferBindingSize} bytes); the largest --num-envs that fits is ${maxEnvs}`,
    );
  }
  const tooBig = networkFitProblem(ctx.device, config);
  if (tooBig) throw new UsageError(`--net-arch: ${tooBig}`);
  const runDir = resolve(args.resume ?? args.out ?? join('runs', runFolderName(config)));
  mkdirSync(runDir, { recursive: true });
  const checkpointPath = join(runDir, 'checkpoint.safetensors');
  if (!args.resume && existsSync(checkpointPath)) {
    throw new UsageError(`--out ${args.out} already holds a run (checkpoint.safetensors); choose another folder, or continue it with --resume`);
  }
  writeFileAtomic(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const metricsCsv = join(runDir, 'metrics.csv');
  const episodesCsv = join(runDir, 'episodes.csv');
  if (resumeFrom) {
    const upTo = resumeFrom.update;
    truncateLog(metricsCsv, (line, i) => i === 0 || Number(line.split(',')[1]) <= upTo);
    truncateLog(join(runDir, 'metrics.jsonl'), (line) => (JSON.parse(line) as TrainMetrics).updates <= upTo);
    truncateLog(episodesCsv, (line, i) => i === 0 || Number(line.split(',')[0]) <= upTo);
  }
  const tensorboard = new TensorBoardWriter(runDir);
  const sb3 = new Sb3Scalars();
  const csv = createWriteStream(metricsCsv, { flags: 'a' });
  const jsonl = createWriteStream(join(runDir, 'metrics.jsonl'), { flags: 'a' });
  const episodes = createWriteStream(episodesCsv, { flags: 'a' });
  const columns = config.algo === 'ppo' ? [...METRIC_COLUMNS, ...PPO_METRIC_COLUMNS] : METRIC_COLUMNS;
  if (!resumeFrom) {
    csv.write(`${columns.join(',')}\n`);
    episodes.write('update,agent,return\n');
  }

  const tty = process.stderr.isTTY && !args.json;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: 'train |{bar}| {percentage}% | {value}/{total} steps | {sps} steps/s | return100 {ret}', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let lastLog = -Infinity;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`webgpu-rl train: ${config.env} ${config.algo}, ${config.numEnvs} envs x ${config.nSteps} steps, on ${ctx.adapterName}; run folder ${runDir}${resumeFrom ? ` (resumed at update ${resumeFrom.update})` : ''}`);

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);

  const session = new TrainingSession(ctx, config, {
    onMetrics(m, newReturns) {
      csv.write(`${columns.map((k) => (Number.isFinite(m[k]) ? String(m[k]) : '')).join(',')}\n`);
      jsonl.write(`${JSON.stringify(m)}\n`);
      episodes.write(newReturns.flatMap((returns, agent) => returns.map((r) => `${m.updates},${agent},${r}\n`)).join(''));
      tensorboard.scalars(m.globalStep, sb3.of(m));
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
  if (resumeFrom) session.restore(resumeFrom);
  else session.initialize();
  bar?.start(config.totalSteps, Math.min(session.envSteps, config.totalSteps), { sps: 0, ret: session.meanReturn100.toFixed(1) });

  const save = async () => {
    const ckpt = await session.checkpoint();
    // A periodic save that finds a non-finite update leaves the last checkpoint alone; the loop then stops.
    if (session.nonFiniteUpdate === null) writeFileAtomic(checkpointPath, encodeCheckpoint(ckpt));
  };
  const fault = faultInjection();
  const trainStart = performance.now();
  let stopReason: string | null = null;
  try {
    while ((stopReason = session.stopReason()) === null && !interrupted) {
      if (fault?.update === session.update) {
        if (fault.kind === 'nan') ctx.device.queue.writeBuffer(session.trainer.buffers.params, 0, new Float32Array([Number.NaN]));
        else ctx.device.destroy();
      }
      const saveNow = args.saveEvery > 0 && (session.update + 1) % args.saveEvery === 0;
      await session.step(saveNow);
      if (saveNow) await save();
    }
    await session.drain();
  } catch (error) {
    if (error instanceof GpuError) {
      bar?.stop();
      const saved = existsSync(checkpointPath) ? decodeCheckpoint(readFileSync(checkpointPath)).update : null;
      throw new Error(
        `${error.message}. ${saved !== null ? `The last checkpoint (update ${saved}) is kept; continue with: webgpu-rl train --resume ${runDir}` : 'No checkpoint was saved yet (use --save-every K).'}`,
      );
    }
    throw error;
  }
  stopReason = session.stopReason() ?? (interrupted ? 'interrupted' : 'totalSteps');
  const trainSeconds = (performance.now() - trainStart) / 1000;
  bar?.stop();
  ctx.throwIfErrors();
  if (stopReason === 'nonFinite') {
    const { what, paramsBad } = await nonFiniteReport(session);
    // Updates from the bad one on were skipped on the GPU, so unless the parameters themselves went bad
    // they are the last good ones; bad parameters are never written over the last checkpoint.
    if (!paramsBad) writeFileAtomic(checkpointPath, encodeCheckpoint(await session.checkpoint()));
    const kept = existsSync(checkpointPath) ? `${checkpointPath} holds the last good parameters` : 'no checkpoint was saved (use --save-every K)';
    throw new Error(`non-finite ${what} at update ${session.nonFiniteUpdate}: training stopped; ${kept}`);
  }
  await save();
  const evaluation = config.evalEpisodes > 0 ? await evaluate(ctx, session.trainer, config.evalEpisodes, false) : null;
  const wallSeconds = process.uptime();
  await Promise.all([csv, jsonl, episodes].map((stream) => new Promise((r) => stream.end(r))));
  tensorboard.close();
  if (args.plots) {
    const rows = readFileSync(episodesCsv, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',').map(Number));
    const perAgent = Array.from({ length: config.numAgents }, (_, a) => rows.filter((r) => r[1] === a).map((r) => r[2]));
    await writePlots(runDir, config.env, perAgent);
  }
  const summary = {
    solved: session.solved,
    solvedAtStep: session.solvedAtStep[0],
    envSteps: session.envSteps,
    updates: session.update,
    wallSeconds: Number(wallSeconds.toFixed(3)),
    meanReturn100: Number(session.meanReturn100.toFixed(2)),
    evalMeanReturn: evaluation ? Number(evaluation.meanReturn.toFixed(2)) : null,
    sps: Math.round((config.numAgents * session.envSteps) / trainSeconds),
    runDir,
    // With several agents: each one's seed and result (the fields above average them; solved = all solved).
    ...(config.numAgents > 1
      ? {
          agents: Array.from({ length: config.numAgents }, (_, a) => ({
            seed: agentSeed(config, a),
            solvedAtStep: session.solvedAtStep[a],
            meanReturn100: Number(session.agentMeanReturn100(a).toFixed(2)),
            evalMeanReturn: evaluation ? Number(evaluation.perAgent[a].meanReturn.toFixed(2)) : null,
          })),
        }
      : {}),
  };
  writeFileAtomic(join(runDir, 'summary.json'), `${JSON.stringify({ ...summary, stopReason, evalStdReturn: evaluation?.stdReturn ?? null }, null, 2)}\n`);
  session.destroy();
  ctx.destroy();
  process.off('SIGINT', onSigint);
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
