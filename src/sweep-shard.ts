/**
 * Shards of a sweep (`webgpu-rl sweep --shard K/N`, or a scheduler's variables): which agents a process
 * trains. Pure: the environment comes in as a record.
 */
import { ConfigError } from './config.ts';

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** Shard K of N holds the agents whose canonical index is K mod N: balanced, and every configuration spread. */
export function shardOf<T extends { index: number }>(agents: T[], shard: Shard): T[] {
  return agents.filter((a) => a.index % shard.count === shard.index);
}

/** `--shard K/N` (K from 0). */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new ConfigError(`--shard must be K/N with K counted from 0 (e.g. 0/4); got "${text}"`);
  return checkShard(Number(match[1]), Number(match[2]), `--shard ${text}`);
}

function checkShard(index: number, count: number, from: string): Shard {
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`${from}: the shard count must be an integer >= 1; got ${count}`);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new ConfigError(`${from}: shard index ${index} is out of range 0..${count - 1} (K counts from 0)`);
  return { index, count };
}

function envInt(env: Record<string, string | undefined>, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name}="${text}" is not a whole number`);
  return value;
}

/**
 * This process's shard: `--shard K/N`, else the scheduler's variables, else none (every agent).
 *   Slurm job arrays   K = (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP, N = SLURM_ARRAY_TASK_COUNT
 *   AWS Batch arrays   K = AWS_BATCH_JOB_ARRAY_INDEX, N = AWS_BATCH_JOB_ARRAY_SIZE
 *   Kubernetes Indexed Jobs  K = JOB_COMPLETION_INDEX, N from --shard-count or the spec's "shards"
 * --shard-count (or the spec's "shards") supplies N where the scheduler gives none; it must agree where it does.
 */
export function resolveShard(
  options: { shard?: string; shardCount?: string },
  env: Record<string, string | undefined>,
  specShards: number | null,
): (Shard & { from: string }) | null {
  let count: number | undefined;
  if (options.shardCount !== undefined) {
    count = Number(options.shardCount);
    if (!Number.isInteger(count) || count < 1) throw new ConfigError(`--shard-count must be an integer >= 1; got "${options.shardCount}"`);
  }
  if (options.shard !== undefined) {
    const shard = parseShard(options.shard);
    if (count !== undefined && count !== shard.count) throw new ConfigError(`--shard ${options.shard} and --shard-count ${count} disagree`);
    return { ...shard, from: `--shard ${options.shard}` };
  }
  const fromScheduler = (from: string, index: number, schedulerCount: number | undefined, countName: string) => {
    if (count !== undefined && schedulerCount !== undefined && count !== schedulerCount) {
      throw new ConfigError(`--shard-count ${count} disagrees with ${countName}=${schedulerCount}`);
    }
    const n = count ?? schedulerCount ?? specShards;
    if (n === undefined || n === null) throw new ConfigError(`${from} gives the shard index but not the count: pass --shard-count N or set "shards" in the spec`);
    return { ...checkShard(index, n, from), from };
  };
  const slurmId = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (slurmId !== undefined) {
    const min = envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const step = envInt(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    if (step < 1 || (slurmId - min) % step !== 0) throw new ConfigError(`SLURM_ARRAY_TASK_ID=${slurmId} is not on the array's range ${min}:${step}; use --array=0-(N-1)`);
    return fromScheduler(`SLURM_ARRAY_TASK_ID=${slurmId}`, (slurmId - min) / step, envInt(env, 'SLURM_ARRAY_TASK_COUNT'), 'SLURM_ARRAY_TASK_COUNT');
  }
  const awsIndex = envInt(env, 'AWS_BATCH_JOB_ARRAY_INDEX');
  if (awsIndex !== undefined) return fromScheduler(`AWS_BATCH_JOB_ARRAY_INDEX=${awsIndex}`, awsIndex, envInt(env, 'AWS_BATCH_JOB_ARRAY_SIZE'), 'AWS_BATCH_JOB_ARRAY_SIZE');
  const k8sIndex = envInt(env, 'JOB_COMPLETION_INDEX');
  if (k8sIndex !== undefined) return fromScheduler(`JOB_COMPLETION_INDEX=${k8sIndex}`, k8sIndex, undefined, '');
  if (count !== undefined) throw new ConfigError(`--shard-count ${count} needs a shard index: --shard K/N, or a scheduler's variable (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX)`);
  return null;
}
