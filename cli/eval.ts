/** `webgpu-rl eval --checkpoint PATH`: mean and std return of K fresh episodes with a saved policy. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CheckpointError, decodeCheckpoint } from '../src/checkpoint.ts';
import { GpuTrainer } from '../src/trainer/gpu-trainer.ts';
import { evaluate } from '../src/trainer/train.ts';
import { envSpec } from '../src/envs/registry.ts';
import { checkUserEnv } from './env-module.ts';
import { openGpu, UsageError } from './util.ts';

export const EVAL_USAGE = `usage: webgpu-rl eval --checkpoint PATH [--episodes K] [--greedy] [--seed S] [--json]
  --checkpoint PATH   a checkpoint.safetensors written by webgpu-rl train (or the demo)
  --episodes K        fresh episodes to play (default 100)
  --greedy            take the most likely action instead of sampling
  --seed S            seeds the episodes' resets and sampling (default: the run's seed, offset from training)
  --json              print {"meanReturn", "stdReturn", "episodes", "greedy"} as one JSON line
`;

export async function evalCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(EVAL_USAGE);
    return;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: { checkpoint: { type: 'string' }, episodes: { type: 'string' }, greedy: { type: 'boolean' }, seed: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see webgpu-rl eval --help)`);
  }
  if (typeof values.checkpoint !== 'string') throw new UsageError('eval needs --checkpoint PATH');
  const episodes = values.episodes === undefined ? 100 : Number(values.episodes);
  if (!Number.isInteger(episodes) || episodes < 1 || episodes > 10_000_000) throw new UsageError(`--episodes must be an integer from 1 to 10000000; got "${values.episodes}"`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)) throw new UsageError(`--seed must be an integer from 0 to 4294967295; got "${values.seed}"`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(values.checkpoint);
  } catch (error) {
    throw new UsageError(`--checkpoint: cannot read ${values.checkpoint}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let ckpt;
  try {
    ckpt = decodeCheckpoint(bytes);
  } catch (error) {
    if (error instanceof CheckpointError) throw new UsageError(`${values.checkpoint}: ${error.message}`);
    throw error;
  }
  const ctx = await openGpu();
  // A user's env travels in the checkpoint and was registered by decoding it.
  await checkUserEnv(ctx, envSpec(ckpt.config.env));
  // Evaluation needs only the policy: the smallest rollout buffers will do.
  const trainer = new GpuTrainer(ctx, { ...ckpt.config, numEnvs: 1, nSteps: 1 });
  trainer.loadState(ckpt);
  if (ckpt.normStats) trainer.loadNormStats(ckpt.normStats);
  const result = await evaluate(ctx, trainer, episodes, Boolean(values.greedy), seed);
  ctx.throwIfErrors();
  trainer.destroy();
  ctx.destroy();
  const out = { meanReturn: result.meanReturn, stdReturn: result.stdReturn, episodes, greedy: Boolean(values.greedy) };
  if (values.json) console.log(JSON.stringify(out));
  else console.log(`${episodes} episodes of ${ckpt.config.env}${out.greedy ? ' (greedy)' : ''}: mean return ${out.meanReturn.toFixed(2)} ± ${out.stdReturn.toFixed(2)}`);
}
