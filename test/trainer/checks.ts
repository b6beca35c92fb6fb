/**
 * The stage-by-stage comparison of one GPU update with the CPU references, for any env (update.test.ts runs
 * it on CartPole, envs.test.ts on the other envs): the rollout (actions may differ only at a CDF boundary,
 * done flags only at a terminal boundary), then targets, gradients, losses and the optimizer, each fed the
 * GPU's own inputs, then the running-statistics merge.
 */
import { expect } from 'vitest';
import { gaussianLogProb, gaussianSample } from '../../src/cpu/gaussian.ts';
import { mergeRunningStats, type RunningStats } from '../../src/cpu/normalize.ts';
import { paramLayout, tensorView } from '../../src/model/layout.ts';
import { rolloutCollect, type CpuRollout, type RolloutArgs } from '../../src/cpu/rollout.ts';
import { advantageMoments, computeTargets, learningRateAt, lossAndGradients, optimizerUpdate, type OptimizerState } from '../../src/cpu/update.ts';
import type { TrainConfig } from '../../src/config.ts';
import type { EnvSpec } from '../../src/envs/types.ts';
import { GpuTrainer } from '../../src/trainer/gpu-trainer.ts';
import type { GpuContext } from '../../src/platform/gpu-context.ts';
import { expectClose, readUpdate, resetSlots, runningStats, submitUpdate, trainConfig, type GpuUpdate } from './harness.ts';
import { expectScenarios, injectScenarios, type Scenario } from './scenarios.ts';

export const TOL = {
  obs: { rtol: 0, atol: 1e-5 },
  logits: { rtol: 1e-5, atol: 1e-7 },
  values: { rtol: 1e-5, atol: 1e-5 },
  targets: { rtol: 1e-5, atol: 1e-5 },
  moments: { rtol: 1e-5, atol: 1e-6 },
  lossTerms: { rtol: 1e-5, atol: 1e-7 },
};

/** Distance of u from the nearest inner boundary of the categorical CDF of logits row `row`. */
function cdfMargin(logits: ArrayLike<number>, row: number, A: number, u: number): number {
  let m = -Infinity;
  for (let a = 0; a < A; a++) m = Math.max(m, logits[row * A + a]);
  let sum = 0;
  for (let a = 0; a < A; a++) sum += Math.exp(logits[row * A + a] - m);
  let cdf = 0, margin = Infinity;
  for (let a = 0; a + 1 < A; a++) {
    cdf += Math.exp(logits[row * A + a] - m) / sum;
    margin = Math.min(margin, Math.abs(u - cdf));
  }
  return margin;
}

/**
 * Whether `terminated` after stepping `state` with `action` changes under a relative perturbation of 1e-5
 * of any state component: the state lies at a terminal boundary, where f32 rounding may decide either way.
 */
function atTerminalBoundary(env: EnvSpec, state: ArrayLike<number>, action: number): boolean {
  const cpu = env.cpu!;
  const out = { reward: 0, terminated: false };
  const s = Float64Array.from(state);
  cpu.step(s, action, 'f64', out);
  const base = out.terminated;
  for (let k = 0; k < state.length; k++) {
    for (const sign of [-1, 1]) {
      s.set(state);
      s[k] += sign * 1e-5 * Math.max(1, Math.abs(state[k]));
      cpu.step(s, action, 'f64', out);
      if (out.terminated !== base) return true;
    }
  }
  return false;
}

/**
 * ROLLOUT: the CPU reference follows the GPU's actions; every action the CPU would have sampled
 * differently must sit at the CDF boundary, every differing done flag at a terminal boundary.
 */
export function checkRollout(g: GpuUpdate, cpu: CpuRollout, args: RolloutArgs, allEnvs: boolean): void {
  const { T, N, env } = args;
  const O = env.observationSize;
  const S = env.stateNames.length;
  const W = S + 4;
  const A = args.shape.numActions;
  const rows = T * N;
  const divergedAt = new Int32Array(N).fill(T);
  let actionFlips = 0, flagFlips = 0;
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      const row = t * N + n;
      if (t >= divergedAt[n]) continue;
      if (cpu.sampledActions[row] !== g.rollout.actions[row]) {
        expect(cdfMargin(cpu.logits, row, A, cpu.uniforms[row]), `row ${row}: action ${g.rollout.actions[row]} vs CPU ${cpu.sampledActions[row]} away from the CDF boundary`).toBeLessThan(1e-5);
        actionFlips++;
      }
      if (g.rollout.terminated[row] !== cpu.terminated[row] || g.rollout.truncated[row] !== cpu.truncated[row]) {
        expect(g.rollout.truncated[row], `row ${row}: truncated`).toBe(cpu.truncated[row]);
        expect(atTerminalBoundary(env, cpu.states.subarray(row * S, (row + 1) * S), g.rollout.actions[row]), `row ${row}: terminated ${g.rollout.terminated[row]} vs CPU ${cpu.terminated[row]} away from a terminal boundary`).toBe(true);
        flagFlips++;
        divergedAt[n] = t;
      }
    }
  }
  expect(actionFlips, 'actions sampled differently at the CDF boundary').toBeLessThanOrEqual(1 + rows * 1e-6);
  expect(flagFlips, 'done flags flipped at a threshold').toBeLessThanOrEqual(1 + rows * 1e-6);

  // Rows still in the same episode on both sides: before an env's flag flip (upTo: its pre-step tensors too).
  const before = (row: number) => Math.floor(row / N) < divergedAt[row % N];
  const upTo = (row: number) => Math.floor(row / N) <= divergedAt[row % N];
  const sameEnv = (n: number) => divergedAt[n] === T;
  expectClose('obs', g.rollout.obs, cpu.obs, TOL.obs, (i) => upTo(Math.floor(i / O)));
  // (A Gaussian policy's means are checked through its actions: checkGaussianActions.)
  if (args.shape.policy !== 'gaussian') expectClose('logits', g.logits, cpu.logits, TOL.logits, (i) => upTo(Math.floor(i / A)));
  expectClose('values', g.rollout.values, cpu.values, TOL.values, upTo);
  expectClose('bootstrapValues', g.rollout.bootstrapValues, cpu.bootstrapValues, TOL.values, before);
  expectClose('lastValues', g.rollout.lastValues, cpu.lastValues, TOL.values, sameEnv);
  expectClose('rewards', g.rollout.rewards, cpu.rewards, { rtol: 1e-6, atol: 1e-6 }, before);
  expectClose('discountedReturns', g.rollout.discountedReturns, cpu.discountedReturns, { rtol: 1e-5, atol: 1e-5 }, before);
  let flagErrors = 0;
  for (let row = 0; row < rows; row++) {
    if (!before(row)) continue;
    if (g.rollout.terminated[row] !== cpu.terminated[row] || g.rollout.truncated[row] !== cpu.truncated[row]) flagErrors++;
  }
  expect(flagErrors, 'done flags').toBe(0);

  // The slots carried to the next update: state to the obs tolerance (relative for large values), counters exactly.
  const gF = new Float32Array(g.envs.buffer), cF = new Float32Array(cpu.envs.buffer);
  let counterErrors = 0;
  for (let n = 0; n < N; n++) {
    if (!sameEnv(n)) continue;
    const o = n * W;
    for (let k = 0; k < S; k++) if (!(Math.abs(gF[o + k] - cF[o + k]) <= TOL.obs.atol * Math.max(1, Math.abs(cF[o + k])))) counterErrors++;
    if (g.envs[o + S] !== cpu.envs[o + S] || g.envs[o + S + 1] !== cpu.envs[o + S + 1]) counterErrors++;
    if (Math.abs(gF[o + S + 2] - cF[o + S + 2]) > 1e-5 * Math.max(1, Math.abs(cF[o + S + 2]))) counterErrors++;
    if (Math.abs(gF[o + S + 3] - cF[o + S + 3]) > 1e-5 * Math.max(1, Math.abs(cF[o + S + 3]))) counterErrors++;
  }
  expect(counterErrors, 'env slots after the rollout').toBe(0);
  if (allEnvs && flagFlips === 0) {
    expect(g.stats.finished, 'episodes finished').toBe(cpu.finishedLengths.length);
    expect(g.stats.lengthSum, 'sum of their lengths').toBe(cpu.finishedLengths.reduce((a, b) => a + b, 0));
  }
}

/**
 * A Gaussian policy's rollout: every unclipped action the GPU took is μ + σ·ε of the CPU's means at that
 * state (the same counter-RNG ε), to f32 rounding. Returns log π(a|s) per row for the loss tolerance.
 */
function checkGaussianActions(g: GpuUpdate, cpu: CpuRollout, args: RolloutArgs): (row: number) => number {
  const { T, N, seed, update } = args;
  const A = args.shape.numActions;
  const logStd = Float64Array.from(tensorView(args.params, paramLayout(args.shape).logStd!));
  const want = new Float64Array(T * N * A);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) want.set(gaussianSample(cpu.logits, logStd, seed, n, update * T + t, (t * N + n) * A), (t * N + n) * A);
  }
  expectClose('unclipped actions', g.rollout.boxActions!, want, { rtol: 1e-5, atol: 1e-5 });
  return (row) => gaussianLogProb(g.rollout.boxActions!, cpu.logits, logStd, row * A);
}

/** Gradient tolerance of one tensor: relative plus a part scaled to the tensor's largest element. */
function gradTol(cpu: ArrayLike<number>, atolScale: number) {
  let max = 0;
  for (let i = 0; i < cpu.length; i++) max = Math.max(max, Math.abs(cpu[i]));
  return { rtol: 1e-4, atol: atolScale * max + 1e-12 };
}

export interface Case {
  name: string;
  config: Partial<TrainConfig>;
  scenarios?: [number, Scenario][];
  /** Running statistics to start from (the GPU's layout), instead of RunningMeanStd's (mean 0, variance 1). */
  normStats?: (trainer: GpuTrainer) => Float32Array;
}

/** Update 0 on the GPU and every stage of it on the CPU from the GPU's inputs to that stage. */
export async function checkUpdateZero(ctx: GpuContext, c: Case, makeTrainer: (config: TrainConfig) => GpuTrainer = (config) => new GpuTrainer(ctx, config)) {
  const config = trainConfig(c.config);
  const { numEnvs: N, nSteps: T, seed } = config;
  const trainer = makeTrainer(config);
  const params = trainer.initialize();

  // rolloutReset put every env at its episode-0 reset state
  const slots = await trainer.readEnvSlots();
  expect(Array.from(slots), 'env slots after rolloutReset').toEqual(Array.from(resetSlots(seed, N, trainer.env)));

  let stats: RunningStats | null = null;
  if (trainer.normalizes) {
    const start = c.normStats ? c.normStats(trainer) : trainer.initialNormStats();
    trainer.loadNormStats(start);
    stats = runningStats(start, trainer.env.observationSize, 0);
  }
  const norm = stats ? { stats, obs: config.normalizeObservations, reward: config.normalizeRewards, gamma: config.gamma } : undefined;
  const args: RolloutArgs = { params, shape: trainer.shape, env: trainer.env, envs: slots, seed, update: 0, T, N, norm };
  if (c.scenarios) {
    injectScenarios(args, c.scenarios);
    trainer.loadEnvSlots(slots);
  }
  submitUpdate(trainer, 0);
  const g = await readUpdate(trainer, stats);
  const gaussian = trainer.shape.policy === 'gaussian';
  if (gaussian) g.rollout.boxActions = await trainer.layered!.readBoxActions();

  // COLLECT ROLLOUT
  const cpu = rolloutCollect({ ...args, forcedActions: g.rollout.actions, ...(gaussian ? { forcedBoxActions: g.rollout.boxActions! } : {}) });
  let logProb: ((row: number) => number) | undefined;
  if (gaussian) logProb = checkGaussianActions(g, cpu, args);
  if (c.scenarios) expectScenarios(cpu, c.scenarios);
  const dones = cpu.terminated.reduce((a, b) => a + b, 0) + cpu.truncated.reduce((a, b) => a + b, 0);
  if (T >= 16 && N >= 63 && trainer.env.id.startsWith('CartPole')) expect(dones, 'episodes ended inside the rollout').toBeGreaterThan(0);
  checkRollout(g, cpu, args, true);
  checkTargetsAndUpdate(trainer, params, g, 1e-5, logProb);

  // NORMALIZE: the running statistics merged from this rollout (f32 sums over B rows vs f64).
  if (stats) {
    const after = runningStats(await trainer.readNormStats(), trainer.env.observationSize, 0);
    const want = mergeRunningStats(stats, g.rollout.obs, g.rollout.discountedReturns, T * N, { obs: config.normalizeObservations, reward: config.normalizeRewards });
    expectClose('obs_rms.mean', after.obsMean, want.obsMean, { rtol: 1e-4, atol: 1e-5 });
    expectClose('obs_rms.var', after.obsVar, want.obsVar, { rtol: 1e-4, atol: 1e-6 });
    expectClose('ret_rms.mean', [after.retMean], [want.retMean], { rtol: 1e-4, atol: 1e-5 });
    expectClose('ret_rms.var', [after.retVar], [want.retVar], { rtol: 1e-4, atol: 1e-6 });
  }
  trainer.destroy();
}

/** CALCULATE TARGETS and UPDATE NETWORK, each stage on the CPU from the GPU's inputs to it. */
export function checkTargetsAndUpdate(trainer: GpuTrainer, params: Float32Array, g: GpuUpdate, gradAtolScale: number, policyLogProb?: (row: number) => number) {
  const { config } = trainer;
  const P = trainer.layout.total;
  const A = trainer.shape.numActions;
  // CALCULATE TARGETS from the GPU's rollout
  const targets = computeTargets(g.rollout, config);
  let weightErrors = 0;
  for (let i = 0; i < targets.weights.length; i++) if (g.targetWeights[i] !== targets.weights[i]) weightErrors++;
  expect(weightErrors, 'weights').toBe(0);
  const weighted = (i: number) => targets.weights[i] === 1;
  expectClose('advantages', g.targets.advantages, targets.advantages, TOL.targets, weighted);
  expectClose('returns', g.targets.returns, targets.returns, TOL.targets, weighted);
  const moments = advantageMoments(targets, g.rollout.values);
  expect(g.metrics.weightSum, 'weight sum').toBe(moments.weightSum);
  for (const key of ['advantageMean', 'advantageStd', 'explainedVariance'] as const) {
    expectClose(key, [g.metrics[key]], [moments[key]], key === 'explainedVariance' ? { rtol: 1e-5, atol: 1e-5 } : TOL.moments);
  }

  // UPDATE NETWORK: loss and gradients from the GPU's rollout (the GPU's targets agree with these to 1e-5)
  const lg = lossAndGradients(params, trainer.shape, g.rollout, targets, config);
  for (const slot of trainer.layout.tensors) {
    const want = lg.grads.subarray(slot.offset, slot.offset + slot.size);
    expectClose(`grads.${slot.name}`, g.grads.subarray(slot.offset, slot.offset + slot.size), want, gradTol(want, gradAtolScale));
  }
  // The policy loss cancels to ~0 (normalized advantages): its error scales with its terms, mean |Â·log π|.
  let termScale = 0;
  for (let i = 0; i < targets.weights.length; i++) {
    if (!weighted(i)) continue;
    if (policyLogProb) {
      termScale += Math.abs(lg.lossAdvantages[i] * policyLogProb(i));
      continue;
    }
    const z = Array.from(g.logits.subarray(i * A, (i + 1) * A));
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    termScale += Math.abs(lg.lossAdvantages[i] * (z[g.rollout.actions[i]] - lse));
  }
  termScale /= Math.max(moments.weightSum, 1);
  expectClose('policyLoss', [g.metrics.policyLoss], [lg.policyLoss], { rtol: 1e-4, atol: gradAtolScale * termScale + 1e-9 });
  expectClose('valueLoss', [g.metrics.valueLoss], [lg.valueLoss], TOL.lossTerms);
  expectClose('entropy', [g.metrics.entropy], [lg.entropy], TOL.lossTerms);

  // The optimizer on the GPU's own gradients: clipping, step and moments to f32 rounding.
  const lr = learningRateAt(config, trainer.numRows, 0);
  const state: OptimizerState = { params: params.slice(), optM: new Float32Array(P), optV: new Float32Array(P) };
  const opt = optimizerUpdate(state, g.grads, g.metrics, config, 0, lr);
  expect(g.metrics.nonFinite).toBe(0);
  expect(opt.nonFinite).toBe(0);
  expectClose('gradNorm', [g.metrics.gradNorm], [opt.gradNorm], TOL.lossTerms);
  expectClose('clipScale', [g.metrics.clipScale], [opt.clipScale], TOL.lossTerms);
  expectClose('gradNorm (from the CPU gradients)', [g.metrics.gradNorm], [Math.hypot(...lg.grads)], { rtol: 1e-4, atol: 1e-12 });
  let maxStep = 0;
  for (let i = 0; i < P; i++) maxStep = Math.max(maxStep, Math.abs(state.params[i] - params[i]));
  expect(maxStep, 'the step moved the parameters').toBeGreaterThan(0);
  expectClose('params', g.params, state.params, { rtol: 2.5e-7, atol: 3e-5 * maxStep });
  if (config.optimizer === 'adam') expectClose('optM', g.optM, state.optM, { rtol: 2e-6, atol: 1e-20 });
  else expect(g.optM.every((x) => x === 0), 'RMSprop leaves optM alone').toBe(true);
  expectClose('optV', g.optV, state.optV, { rtol: 5e-5, atol: 1e-20 });
}
