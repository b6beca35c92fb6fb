/**
 * shaders/normalize.wgsl (normalizerUpdate) against src/cpu/normalize.ts at awkward batch sizes: the
 * running statistics of observations (Acrobot: six floats in two vec4s, two padded lanes) and of
 * discounted returns, merged from B rows into statistics that already hold a count (update 3), for one
 * agent and for three side by side. The kernel runs on a trainer's own buffers, filled by the test.
 */
import { describe, expect, it } from 'vitest';
import { mergeRunningStats, NORM_INITIAL_COUNT } from '../../src/cpu/normalize.ts';
import { rngUniform } from '../../src/rng.ts';
import { GpuTrainer } from '../../src/trainer/gpu-trainer.ts';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose, runningStats, trainConfig } from '../trainer/harness.ts';

const gpu = useGpu();
const O = 6;
const OV = 2;
const UPDATE = 3;

async function check(rows: number, agents: number) {
  const config = trainConfig({ env: 'Acrobot-v1', hidden: 4, numEnvs: rows, nSteps: 1, numAgents: agents, normalizeObservations: true, normalizeRewards: true });
  const trainer = new GpuTrainer(gpu(), config);
  const ctx = gpu();
  // Inputs: observations around a shifted mean, returns of another scale; the padded lanes stay 0.
  const obs = new Float32Array(agents * rows * OV * 4);
  const values = new Float32Array((agents * rows + agents * rows) * 4);
  const rowObs = new Float32Array(agents * rows * O);
  const returns = new Float32Array(agents * rows);
  for (let r = 0; r < agents * rows; r++) {
    for (let k = 0; k < O; k++) {
      const v = Math.fround(2 * k - 3 + (k + 1) * (rngUniform(rows, 50 + k, r, agents) * 2 - 1));
      obs[r * OV * 4 + k] = v;
      rowObs[r * O + k] = v;
    }
    returns[r] = Math.fround(-20 + 15 * rngUniform(rows, 60, r, agents));
    values[r * 4 + 3] = returns[r];
  }
  const start = trainer.initialNormStats();
  const per = (2 * OV + 1) * 4;
  for (let a = 0; a < agents; a++) {
    for (let k = 0; k < O; k++) {
      start[a * per + k] = 0.5 * k - a;
      start[a * per + OV * 4 + k] = 1 + 0.25 * k + a;
    }
    start[a * per + 2 * OV * 4] = -5;
    start[a * per + 2 * OV * 4 + 1] = 30 + a;
  }
  trainer.loadNormStats(start);
  ctx.device.queue.writeBuffer(trainer.buffers.obs, 0, obs);
  ctx.device.queue.writeBuffer(trainer.buffers.values, 0, values);
  trainer.writeUniform(UPDATE);
  const encoder = ctx.device.createCommandEncoder();
  trainer.encodePhases(encoder, ['normalize']);
  ctx.device.queue.submit([encoder.finish()]);
  const after = await trainer.readNormStats();

  const count = NORM_INITIAL_COUNT + UPDATE * rows;
  for (let a = 0; a < agents; a++) {
    const before = runningStats(start, O, a, count);
    const want = mergeRunningStats(before, rowObs.subarray(a * rows * O, (a + 1) * rows * O), returns.subarray(a * rows, (a + 1) * rows), rows, { obs: true, reward: true });
    const got = runningStats(after, O, a);
    // f32 sums over up to 4M rows in a fixed tree vs f64: relative to the spread of the data.
    const tol = { rtol: rows > 1e5 ? 1e-4 : 2e-6, atol: rows > 1e5 ? 1e-4 : 2e-6 };
    expectClose(`agent ${a} obs_rms.mean`, got.obsMean, want.obsMean, tol);
    expectClose(`agent ${a} obs_rms.var`, got.obsVar, want.obsVar, tol);
    expectClose(`agent ${a} ret_rms.mean`, [got.retMean], [want.retMean], tol);
    expectClose(`agent ${a} ret_rms.var`, [got.retVar], [want.retVar], { rtol: tol.rtol, atol: tol.atol * 30 });
    // The padded lanes keep the start's mean 0 and variance 1.
    const base = a * per;
    expect([after[base + 6], after[base + 7], after[base + OV * 4 + 6], after[base + OV * 4 + 7]]).toEqual([0, 0, 1, 1]);
  }
  trainer.destroy();
}

describe('normalizerUpdate vs the RunningMeanStd reference', () => {
  // 2,000,001 rows: about the most Acrobot's two observation vec4s per row allow in one 128 MiB binding.
  for (const rows of [1, 63, 64, 65, 4097, 2_000_001]) it(`B = ${rows} rows, one agent`, () => check(rows, 1));
  it('B = 65 rows, three agents side by side', () => check(65, 3));
});
