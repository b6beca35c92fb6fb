/**
 * src/cpu/normalize.ts, the reference of VecNormalize's RunningMeanStd, against definitions worked out
 * independently: the mean and population variance of every sample seen (RunningMeanStd's start counts as
 * `count` samples at mean 0 and variance 1), whichever way the samples arrive in batches.
 */
import { describe, expect, it } from 'vitest';
import { initialRunningStats, mergeRunningStats, NORM_CLIP, NORM_INITIAL_COUNT, normalizeObservation, normalizeReward } from '../../src/cpu/normalize.ts';
import { rngUniform } from '../../src/rng.ts';

const sample = (n: number, seed: number, scale: number, shift: number) => Float64Array.from({ length: n }, (_, i) => shift + scale * (rngUniform(seed, 7, i, 0) * 2 - 1));

describe('RunningMeanStd reference', () => {
  it('one batch: the moments of the start (count 1e-4, mean 0, variance 1) and the batch pooled', () => {
    const rows = 37;
    const x = sample(rows * 2, 1, 3, 5);
    const r = sample(rows, 2, 10, -4);
    const stats = mergeRunningStats(initialRunningStats(2), x, r, rows, { obs: true, reward: true });
    const c = NORM_INITIAL_COUNT;
    for (let k = 0; k < 2; k++) {
      const col = Array.from({ length: rows }, (_, i) => x[i * 2 + k]);
      const s = col.reduce((a, b) => a + b, 0);
      const mean = s / (c + rows); // the start contributes c samples at 0
      // E[x²] over everything: the start's samples have second moment var + mean² = 1
      const second = (c * 1 + col.reduce((a, b) => a + b * b, 0)) / (c + rows);
      expect(stats.obsMean[k]).toBeCloseTo(mean, 12);
      expect(stats.obsVar[k]).toBeCloseTo(second - mean * mean, 10);
    }
    expect(stats.count).toBe(c + rows);
    const rs = Array.from(r);
    const rMean = rs.reduce((a, b) => a + b, 0) / (c + rows);
    expect(stats.retMean).toBeCloseTo(rMean, 12);
    expect(stats.retVar).toBeCloseTo((c + rs.reduce((a, b) => a + b * b, 0)) / (c + rows) - rMean * rMean, 9);
  });

  it('merging batch by batch equals merging everything at once (Chan et al.: the merge is exact)', () => {
    const x = sample(3 * 90, 3, 2, -1);
    const r = sample(90, 4, 1, 0.5);
    const all = mergeRunningStats(initialRunningStats(3), x, r, 90, { obs: true, reward: true });
    let parts = initialRunningStats(3);
    for (const [from, to] of [[0, 1], [1, 30], [30, 31], [31, 90]]) {
      parts = mergeRunningStats(parts, x.subarray(from * 3, to * 3), r.subarray(from, to), to - from, { obs: true, reward: true });
    }
    for (let k = 0; k < 3; k++) {
      expect(parts.obsMean[k]).toBeCloseTo(all.obsMean[k], 12);
      expect(parts.obsVar[k]).toBeCloseTo(all.obsVar[k], 12);
    }
    expect(parts.retVar).toBeCloseTo(all.retVar, 12);
    expect(parts.count).toBeCloseTo(all.count, 9);
  });

  it('merges only what is asked, and leaves its input alone', () => {
    const start = initialRunningStats(1);
    const next = mergeRunningStats(start, [7, 9], [100, 200], 2, { obs: true, reward: false });
    expect(next.retMean).toBe(0);
    expect(next.retVar).toBe(1);
    expect(next.obsMean[0]).toBeGreaterThan(7);
    expect(start.obsMean[0]).toBe(0);
  });

  it('normalizes as VecNormalize: (x − mean) / sqrt(var + 1e-8), clipped to ±10; rewards r / sqrt(ret var + 1e-8), no mean shift', () => {
    const stats = { ...initialRunningStats(2), obsMean: Float64Array.of(1, -2), obsVar: Float64Array.of(4, 1e-6), retMean: 3, retVar: 0.25 };
    const out = normalizeObservation(new Float64Array(2), [5, -1.99], stats);
    expect(out[0]).toBeCloseTo(4 / Math.sqrt(4 + 1e-8), 14);
    expect(out[1]).toBeCloseTo(0.01 / Math.sqrt(1e-6 + 1e-8), 10); // 9.95: just inside the clip
    expect(normalizeObservation(new Float64Array(2), [5, -1.98], stats)[1]).toBe(NORM_CLIP);
    expect(normalizeReward(1, stats)).toBeCloseTo(1 / Math.sqrt(0.25 + 1e-8), 14);
    expect(normalizeReward(-100, stats)).toBe(-NORM_CLIP);
  });
});
