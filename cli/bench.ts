/** `webgpu-rl bench env|kernels|rollout|train|solve`: tables in Markdown, or --json; adapter and command named. */
import { parseArgs } from 'node:util';
import { benchEnv, type EnvBenchRow } from '../bench/env.ts';
import { benchPreset, type PresetRow } from '../bench/presets.ts';
import { benchSolve, summarize } from '../bench/solve.ts';
import { benchSweep, sweepBenchMarkdown } from '../bench/sweep.ts';
import { CONFIG_SCHEMA, parseField, parseNetArch, type Algo } from '../src/config.ts';
import { benchKernels, benchTraining } from '../bench/train.ts';
import { benchLinear, linearTable } from '../bench/linear.ts';
import { BUILTIN_ENV_IDS, envIds, envSpec, isEnvId } from '../src/envs/registry.ts';

const ALGOS = CONFIG_SCHEMA.algo.kind === 'choice' ? CONFIG_SCHEMA.algo.choices : [];
import { checkUserEnv, loadEnvModule } from './env-module.ts';
import { maxNumEnvs } from '../src/envs/vec-env.ts';
import { maxTrainEnvs } from '../src/trainer/gpu-trainer.ts';
import { formatRate, openGpu, parseIntList, table, UsageError } from './util.ts';

export const BENCH_USAGE = `usage: webgpu-rl bench <what> [--sizes LIST] [--seconds S] [--json]
  env      env-only stepping (GPU fused, GPU per step, CPU reference)            --env ID|all [--env-module PATH] --sizes 1k,16k,64k,256k,1M --steps 200
  kernels  actor-critic forward+backward over B rows (GFLOP/s, rows/s)            --sizes 4k,64k,1M --hidden 256
  linear   layer kernels (shaders/linear.wgsl) 64x64, 4x64, 64x2, GFLOP/s each     --sizes 4k,64k,1M
  rollout  policy + sampling + env step (env-steps/s)                            --sizes 1k,16k,64k,256k,1M --n-steps 4 --hidden 256
  train    whole updates (env-steps/s, updates/s)                                --sizes 1k,16k,64k,256k,1M --n-steps 4 --hidden 256
           (rollout, train: [--net-arch 64,64] [--activation tanh|relu] [--path fused|layered])
  solve    wall time from process start to solved on CartPole-v1                  --seeds 5 [-- extra train flags]
  presets  each env's preset: agents that reach its threshold, steps to it           --envs ID,…|all --algos a2c,…|all --seeds 5 [--target-return X]
           (a progress line on stderr every minute, with --json too)
  sweep    16 agents (4 learning rates × 4 seeds) as one sweep vs one agent alone (median of 3)  --steps 100000 (per agent) --seeds 4
Each GPU figure is measured with its CPU reference in the same run; the ratio is printed.
`;

/** `--env ID` (default CartPole-v1) or `--env all`: the built-in envs benchmarked, in order. */
function envList(text: string | undefined): string[] {
  if (text === undefined) return ['CartPole-v1'];
  if (text === 'all') return [...BUILTIN_ENV_IDS];
  if (!isEnvId(text)) throw new UsageError(`--env: unknown env "${text}" (known: ${envIds().join(', ')}, or all)`);
  return [text];
}

function positive(flag: string, text: string | boolean | undefined, fallback: number, integer = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) throw new UsageError(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  return value;
}

export async function benchCommand(argv: string[]): Promise<void> {
  const [what, ...rest] = argv;
  if (!what || what === '--help' || what === '-h') {
    process.stdout.write(BENCH_USAGE);
    return;
  }
  if (!['env', 'kernels', 'rollout', 'train', 'solve', 'presets', 'sweep', 'linear'].includes(what)) throw new UsageError(`unknown benchmark "${what}" (available: env, kernels, linear, rollout, train, solve, presets, sweep)`);
  const dashdash = rest.indexOf('--');
  // parseArgs reads "--target-return -120" as two options; join a negative number to its flag.
  const own: string[] = [];
  for (const arg of dashdash >= 0 ? rest.slice(0, dashdash) : rest) {
    const previous = own.at(-1);
    if (/^-(\d|\.\d)/.test(arg) && previous?.startsWith('--') && !previous.includes('=')) own[own.length - 1] = `${previous}=${arg}`;
    else own.push(arg);
  }
  const extra = dashdash >= 0 ? rest.slice(dashdash + 1) : [];
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: own,
      options: { sizes: { type: 'string' }, env: { type: 'string' }, envs: { type: 'string' }, algos: { type: 'string' }, 'target-return': { type: 'string' }, 'env-module': { type: 'string' }, seconds: { type: 'string' }, steps: { type: 'string' }, 'n-steps': { type: 'string' }, hidden: { type: 'string' }, 'net-arch': { type: 'string' }, activation: { type: 'string' }, path: { type: 'string' }, seeds: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see webgpu-rl bench --help)`);
  }
  const json = Boolean(flags.json);
  const seconds = positive('seconds', flags.seconds, 1);
  const command = `webgpu-rl bench ${argv.join(' ')}`;
  const progress = (line: string) => {
    if (!json) process.stderr.write(`  ${line}\n`);
  };

  if (what === 'solve') {
    const count = positive('seeds', flags.seeds, 5, true);
    const seeds = Array.from({ length: count }, (_, i) => i + 1);
    const runs = benchSolve(seeds, extra, (r) => progress(`seed ${r.seed}: ${r.solved ? 'solved' : 'NOT solved'} in ${r.wallSeconds.toFixed(2)} s, ${r.envSteps} env steps, eval ${r.evalMeanReturn}`));
    const wall = summarize(runs.map((r) => r.wallSeconds));
    const steps = summarize(runs.map((r) => r.envSteps));
    const updates = summarize(runs.map((r) => r.updates));
    const solved = runs.filter((r) => r.solved).length;
    const evalOk = runs.filter((r) => (r.evalMeanReturn ?? 0) >= 475).length;
    if (json) {
      console.log(JSON.stringify({ bench: 'solve', command, runs, wallSeconds: wall, envSteps: steps, updates, solved, evalAtLeast475: evalOk }));
      return;
    }
    console.log(`bench solve: CartPole-v1, webgpu-rl train --seed 1..${count} ${extra.join(' ')} (each a fresh process; wall time from process start to solved and evaluated)\n`);
    console.log(table(['', 'median', 'min', 'max'], [
      ['wall seconds', wall.median.toFixed(2), wall.min.toFixed(2), wall.max.toFixed(2)],
      ['env steps', String(Math.round(steps.median)), String(steps.min), String(steps.max)],
      ['updates', String(Math.round(updates.median)), String(updates.min), String(updates.max)],
    ]));
    console.log(`\nsolved ${solved}/${count}; evaluation mean return >= 475 over 100 fresh episodes: ${evalOk}/${count}`);
    return;
  }

  if (what === 'presets') return presetsCommand(flags, command, json, progress);
  if (what === 'sweep') {
    const ctx = await openGpu();
    const r = await benchSweep(ctx, { totalSteps: positive('steps', flags.steps, 100_000, true), seeds: positive('seeds', flags.seeds, 4, true), repeats: 3 }, progress);
    console.log(json ? JSON.stringify({ bench: 'sweep', command, adapter: ctx.adapterName, ...r }) : sweepBenchMarkdown(r, command, ctx.adapterName));
    return ctx.destroy();
  }

  const ctx = await openGpu();
  const header = (text: string) => {
    if (!json) console.log(`${command}\nadapter: ${ctx.adapterName}\n${text}\n`);
  };
  const print = (rows: object[], head: string[], cells: string[][]) => {
    if (json) console.log(JSON.stringify({ bench: what, command, adapter: ctx.adapterName, rows }));
    else console.log(table(head, cells));
  };
  if (what === 'env') {
    if (typeof flags['env-module'] === 'string') {
      const spec = loadEnvModule(flags['env-module']);
      await checkUserEnv(ctx, spec);
      flags.env ??= spec.id;
    }
    const sizes = parseIntList('sizes', (flags.sizes as string | undefined) ?? '1k,16k,64k,256k,1M');
    const steps = positive('steps', flags.steps, 200, true);
    const envs = envList(flags.env as string | undefined);
    for (const env of envs) {
      const tooBig = sizes.find((n) => n > maxNumEnvs(ctx.device, env));
      if (tooBig) throw new UsageError(`--sizes: ${tooBig} ${env} envs do not fit this adapter; the largest N is ${maxNumEnvs(ctx.device, env)}`);
    }
    header(`${envs.join(', ')}: random policy, ${steps} steps per fused dispatch, >= ${seconds} s per cell`);
    const rows: EnvBenchRow[] = [];
    for (const env of envs) rows.push(...(await benchEnv(ctx, { env, sizes, seconds, stepsPerDispatch: steps }, (r) => progress(`${r.env} N=${r.numEnvs}`))));
    print(rows, ['env', 'N', 'GPU fused steps/s', 'GPU per-step steps/s', 'CPU ref steps/s', 'fused / CPU'], rows.map((r: EnvBenchRow) => [
      r.env, String(r.numEnvs), formatRate(r.gpuFusedSps), formatRate(r.gpuPerStepSps), formatRate(r.cpuSps), `${(r.gpuFusedSps / r.cpuSps).toFixed(1)}x`,
    ]));
  } else if (what === 'kernels') {
    const sizes = parseIntList('sizes', (flags.sizes as string | undefined) ?? '4k,64k,1M');
    const hidden = positive('hidden', flags.hidden, 256, true);
    header(`actor 4->${hidden}->2 and critic 4->${hidden}->1 (ReLU): forward + backward over B rows, model FLOPs = 3 x forward`);
    const rows = await benchKernels(ctx, sizes, hidden, seconds, (r) => progress(`B=${r.rows}`));
    print(rows, ['B rows', 'GPU rows/s', 'GPU GFLOP/s', 'CPU ref rows/s', 'CPU GFLOP/s', 'GPU / CPU'], rows.map((r) => [
      String(r.rows), formatRate(r.gpuRowsPerSec), r.gpuGflops.toFixed(2), formatRate(r.cpuRowsPerSec), r.cpuGflops.toFixed(2), `${(r.gpuRowsPerSec / r.cpuRowsPerSec).toFixed(1)}x`,
    ]));
  } else if (what === 'linear') {
    const sizes = parseIntList('sizes', (flags.sizes as string | undefined) ?? '4k,64k,1M');
    header('fully connected layer kernels, G = 1, tanh epilogue/prologue; GFLOP/s = 2·R·K·N per kernel; CPU reference on up to 4096 rows');
    const rows = await benchLinear(ctx, { sizes, seconds }, (r) => progress(`${r.inputs}x${r.outputs} R=${r.rows} ${r.kernel}`));
    print(rows, ...linearTable(rows));
  } else {
    const nSteps = positive('n-steps', flags['n-steps'], 4, true);
    const hidden = positive('hidden', flags.hidden, 256, true);
    const sizes = parseIntList('sizes', (flags.sizes as string | undefined) ?? '1k,16k,64k,256k,1M');
    const tooBig = sizes.find((n) => n > maxTrainEnvs(ctx.device, nSteps));
    if (tooBig) throw new UsageError(`--sizes: ${tooBig} envs with --n-steps ${nSteps} do not fit this adapter; the largest is ${maxTrainEnvs(ctx.device, nSteps)}`);
    const activation = typeof flags.activation === 'string' ? parseField('activation', flags.activation) : 'relu';
    const netArch = typeof flags['net-arch'] === 'string' ? parseField('netArch', flags['net-arch']) : null;
    if (flags.path !== undefined && flags.path !== 'fused' && flags.path !== 'layered') throw new UsageError(`--path must be fused or layered; got "${String(flags.path)}"`);
    const path = flags.path as 'fused' | 'layered' | undefined;
    const config = { nSteps, hidden, activation, netArch };
    const { pi, vf } = netArch ? parseNetArch(netArch) : { pi: [hidden], vf: [hidden] };
    const trainer = { path };
    header(
      `${what === 'rollout' ? 'rollout (policy forward, sampling, env step)' : 'full A2C updates'}: actor 4->${pi.join('->')}->2 and critic 4->${vf.join('->')}->1 ${activation}, T = ${nSteps}` +
        (path ? `, the ${path} path` : ''),
    );
    const rows = await benchTraining(ctx, what as 'rollout' | 'train', sizes, config, seconds, (r) => progress(`N=${r.numEnvs}`), trainer);
    print(rows, ['N envs', 'GPU env-steps/s', 'GPU updates/s', 'CPU ref env-steps/s', 'GPU / CPU'], rows.map((r) => [
      String(r.numEnvs), formatRate(r.gpuStepsPerSec), r.gpuUpdatesPerSec.toFixed(1), formatRate(r.cpuStepsPerSec), `${(r.gpuStepsPerSec / r.cpuStepsPerSec).toFixed(1)}x`,
    ]));
  }
  ctx.throwIfErrors();
  ctx.destroy();
}

/** `bench presets`: every env × algorithm preset over S seeds (bench/presets.ts), as a Markdown table or JSON. */
async function presetsCommand(flags: Record<string, string | boolean | undefined>, command: string, json: boolean, progress: (line: string) => void) {
  const trainable = [...BUILTIN_ENV_IDS];
  const list = (flag: string, all: readonly string[], fallback: string[]) => {
    const text = flags[flag] as string | undefined;
    if (text === undefined) return fallback;
    if (text === 'all') return [...all];
    const items = text.split(',').map((t) => t.trim());
    const bad = items.find((t) => !all.includes(t));
    if (bad !== undefined) throw new UsageError(`--${flag}: "${bad}" is not one of ${all.join(', ')} (or all)`);
    return items;
  };
  const envs = list('envs', trainable, trainable);
  const algos = list('algos', ALGOS, ['a2c']) as Algo[];
  const seeds = positive('seeds', flags.seeds, 5, true);
  const targetText = flags['target-return'] as string | undefined;
  const targetReturn = targetText === undefined ? undefined : Number(targetText);
  if (targetReturn !== undefined && !Number.isFinite(targetReturn)) throw new UsageError(`--target-return must be a finite number; got "${targetText}"`);
  const ctx = await openGpu();
  const rows: PresetRow[] = [];
  for (const env of envs) {
    for (const algo of algos) {
      // Q actor-critic learns one value per Discrete action: not for Box envs.
      if (algo === 'qac' && envSpec(env).actionSpace.type === 'Box') continue;
      // Every minute a line on stderr, --json too (stdout keeps the one JSON line): a cell can take an hour.
      const row = await benchPreset(ctx, env, algo, seeds, targetReturn === undefined ? {} : { targetReturn }, (line) => process.stderr.write(`  ${line}\n`));
      progress(`${env} ${algo}: ${row.solved}/${row.seeds} reached ${row.target} (median ${row.medianSteps ?? '-'} steps), ${row.wallSeconds.toFixed(1)} s`);
      rows.push(row);
    }
  }
  if (json) console.log(JSON.stringify({ bench: 'presets', command, adapter: ctx.adapterName, rows }));
  else {
    console.log(`${command}\nadapter: ${ctx.adapterName}\neach preset trained with ${seeds} seeds side by side (--num-agents), until every agent reached the target or the budget ran out\n`);
    console.log(table(['env', 'algo', 'target', 'reached', 'median steps to target', 'max', 'median final return (last 100)', 'budget', 'wall s'], rows.map((r) => [
      r.env, r.algo, String(r.target), `${r.solved}/${r.seeds}`, r.medianSteps === null ? '-' : String(Math.round(r.medianSteps)), r.maxSteps === null ? '-' : String(r.maxSteps),
      r.medianFinalReturn.toFixed(1), String(r.budget), r.wallSeconds.toFixed(1),
    ])));
  }
  ctx.throwIfErrors();
  ctx.destroy();
}
