/**
 * CPU reference of shaders/normalize.wgsl and of the normalization the rollout and backward apply:
 * Stable-Baselines3's VecNormalize with its RunningMeanStd, written from SB3's code (update_from_moments):
 *   delta = batch_mean − mean;  tot = count + batch_count
 *   mean' = mean + delta·batch_count/tot
 *   var'  = (var·count + batch_var·batch_count + delta²·count·batch_count/tot) / tot;  count' = tot
 * Observations: clip((obs − mean) / sqrt(var + 1e-8), ±10). Rewards: clip(r / sqrt(ret_var + 1e-8), ±10),
 * with ret the discounted return γ·ret + r of each env, restarted at every episode end.
 * Arithmetic in f64; the GPU keeps the statistics in f32 and merges once per update (not per step).
 */
export const NORM_EPS = 1e-8;
export const NORM_CLIP = 10;
/** RunningMeanStd's starting count (its epsilon). */
export const NORM_INITIAL_COUNT = 1e-4;

export interface RunningStats {
  obsMean: Float64Array; // [O]
  obsVar: Float64Array; // [O]
  retMean: number;
  retVar: number;
  /** Samples merged so far (starting at NORM_INITIAL_COUNT). */
  count: number;
}

export function initialRunningStats(O: number): RunningStats {
  return { obsMean: new Float64Array(O), obsVar: new Float64Array(O).fill(1), retMean: 0, retVar: 1, count: NORM_INITIAL_COUNT };
}

const clip = (v: number) => Math.min(NORM_CLIP, Math.max(-NORM_CLIP, v));

/** The network's input for a raw observation `obs` [O]: written into `out`. */
export function normalizeObservation(out: Float64Array, obs: ArrayLike<number>, stats: RunningStats): Float64Array {
  for (let k = 0; k < out.length; k++) out[k] = clip((obs[k] - stats.obsMean[k]) / Math.sqrt(stats.obsVar[k] + NORM_EPS));
  return out;
}

export function normalizeReward(reward: number, stats: RunningStats): number {
  return clip(reward / Math.sqrt(stats.retVar + NORM_EPS));
}

function mergeMoments(mean: number, variance: number, count: number, batch: ArrayLike<number>, stride: number, offset: number, rows: number) {
  let sum = 0;
  for (let r = 0; r < rows; r++) sum += batch[r * stride + offset];
  const batchMean = sum / rows;
  let sq = 0;
  for (let r = 0; r < rows; r++) sq += (batch[r * stride + offset] - batchMean) ** 2;
  const batchVar = sq / rows;
  const delta = batchMean - mean;
  const tot = count + rows;
  return { mean: mean + (delta * rows) / tot, variance: (variance * count + batchVar * rows + (delta * delta * count * rows) / tot) / tot };
}

/**
 * The statistics after merging one batch: `obs` [B × O] raw observations (when `which.obs`) and `returns`
 * [B] discounted returns (when `which.reward`). Returns fresh statistics; `stats` is not modified.
 */
export function mergeRunningStats(stats: RunningStats, obs: ArrayLike<number>, returns: ArrayLike<number>, rows: number, which: { obs: boolean; reward: boolean }): RunningStats {
  const O = stats.obsMean.length;
  const next: RunningStats = { obsMean: stats.obsMean.slice(), obsVar: stats.obsVar.slice(), retMean: stats.retMean, retVar: stats.retVar, count: stats.count + rows };
  if (which.obs) {
    for (let k = 0; k < O; k++) {
      const m = mergeMoments(stats.obsMean[k], stats.obsVar[k], stats.count, obs, O, k, rows);
      next.obsMean[k] = m.mean;
      next.obsVar[k] = m.variance;
    }
  }
  if (which.reward) {
    const m = mergeMoments(stats.retMean, stats.retVar, stats.count, returns, 1, 0, rows);
    next.retMean = m.mean;
    next.retVar = m.variance;
  }
  return next;
}
