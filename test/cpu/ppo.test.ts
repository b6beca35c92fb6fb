/**
 * PPO's CPU reference (src/cpu/ppo.ts): ppoLoss's gradients against central finite differences of its loss
 * (categorical A = 2, 3 and Gaussian D = 1, 2; value clipping and advantage normalization on and off; rows
 * inside the clip range, clipped above and below, and outside it on the unclipped side), a case worked
 * out by hand, PyTorch's tie and clamp rules, and the whole update ppoUpdateReference on CPU rollouts of
 * CartPole-v1 and Pendulum-v1: its step count, early stop on the KL target, minibatches that partition the
 * batch, and its first minibatch's gradient against the A2C reference (src/cpu/update.ts) on the same rows.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig, netShapeOf, type TrainConfig } from '../../src/config.ts';
import { actorCriticForward } from '../../src/cpu/actor-critic.ts';
import { initParams } from '../../src/cpu/init.ts';
import { ppoLoss, ppoPermutation, ppoUpdateReference, type PpoConfig, type PpoLossInputs } from '../../src/cpu/ppo.ts';
import { rolloutCollect, type RolloutTensors } from '../../src/cpu/rollout.ts';
import { lossAndGradients, updateReference, type OptimizerState } from '../../src/cpu/update.ts';
import { envSpec } from '../../src/envs/registry.ts';
import type { EnvSpec } from '../../src/envs/types.ts';
import { paramLayout, tensorView, type NetShape } from '../../src/model/layout.ts';
import { rngUniform } from '../../src/rng.ts';

const u = (seed: number, i: number) => rngUniform(seed, 91, i, 0);
const LOG_2PI = Math.log(2 * Math.PI);

/** log π(a|s) written here from the definitions (not the module's helpers), to place rows at chosen ratios. */
function logProbHere(z: ArrayLike<number>, logStd: ArrayLike<number> | null, actions: ArrayLike<number>, i: number, A: number): number {
  if (logStd) {
    let s = 0;
    for (let d = 0; d < A; d++) s += -0.5 * ((actions[i * A + d] - z[i * A + d]) / Math.exp(logStd[d])) ** 2 - logStd[d] - 0.5 * LOG_2PI;
    return s;
  }
  let sum = 0;
  for (let k = 0; k < A; k++) sum += Math.exp(z[i * A + k]);
  return z[i * A + actions[i]] - Math.log(sum);
}

const CLIP = 0.2;
/**
 * The rows of a minibatch by where they sit, with c = 0.2; the advantages sum to 0, so normalizing them
 * keeps their signs.
 *   inside       ratio 0.9, 1.1     both branches equal
 *   above/+      ratio 1.5, Â > 0   clipped: no policy gradient
 *   below/−      ratio 0.6, Â < 0   clipped: no policy gradient
 *   above/−      ratio 1.4, Â < 0   unclipped side wins outside the range: gradient
 *   below/+      ratio 0.7, Â > 0   likewise
 */
const ROWS = [
  { ratio: 1.1, adv: 1.3, zeroPg: false },
  { ratio: 1.5, adv: 0.8, zeroPg: true },
  { ratio: 0.6, adv: -0.9, zeroPg: true },
  { ratio: 1.4, adv: -1.1, zeroPg: false },
  { ratio: 0.7, adv: 0.7, zeroPg: false },
  { ratio: 0.9, adv: -0.5, zeroPg: false },
  { ratio: 1.05, adv: 0.4, zeroPg: false },
  { ratio: 1.6, adv: -0.7, zeroPg: false },
];
/** Value rows: V − V_old inside ±c; outside with the clipped error larger (no gradient); outside with the unclipped one larger. */
const VALUE_KINDS = ['inside', 'clippedWins', 'unclippedWins'] as const;

function lossInputs(A: number, gaussian: boolean, opts: Partial<PpoLossInputs>, seed: number): PpoLossInputs {
  const M = ROWS.length;
  const z = Float64Array.from({ length: M * A }, (_, i) => 1.5 * (2 * u(seed, i) - 1));
  const logStd = gaussian ? Float64Array.from({ length: A }, (_, d) => 0.4 * (2 * u(seed + 1, d) - 1)) : null;
  const actions = gaussian
    ? Float64Array.from({ length: M * A }, (_, i) => z[i] + 1.2 * (2 * u(seed + 2, i) - 1))
    : Uint32Array.from({ length: M }, (_, i) => Math.floor(u(seed + 2, i) * A));
  const oldLogProb = Float64Array.from(ROWS, (row, i) => logProbHere(z, logStd, actions, i, A) - Math.log(row.ratio));
  const oldValues = Float64Array.from({ length: M }, (_, i) => 2 * u(seed + 3, i) - 1);
  const values = new Float64Array(M);
  const returns = new Float64Array(M);
  for (let i = 0; i < M; i++) {
    const sign = i % 2 === 0 ? 1 : -1;
    const kind = VALUE_KINDS[i % 3];
    const step = kind === 'inside' ? sign * 0.1 : sign * 0.5;
    values[i] = oldValues[i] + step;
    // clippedWins: R beyond V, so the clipped value (nearer V_old) is farther from it; unclippedWins: R behind V_old.
    returns[i] = kind === 'clippedWins' ? values[i] + sign * 0.3 : kind === 'unclippedWins' ? oldValues[i] - sign * 0.3 : oldValues[i] + 0.7 * u(seed + 4, i);
  }
  return {
    z, logStd, actions, oldLogProb, values, returns, oldValues,
    advantages: Float64Array.from(ROWS, (r) => r.adv),
    normalizeAdvantage: false, clipCoef: CLIP, clipVloss: false, entCoef: 0.01, vfCoef: 0.7, M, A,
    ...opts,
  };
}

const h = 1e-6;

function expectGradient(name: string, analytic: ArrayLike<number>, lossAt: (i: number, delta: number) => number) {
  for (let i = 0; i < analytic.length; i++) {
    const fd = (lossAt(i, h) - lossAt(i, -h)) / (2 * h);
    expect(Math.abs(fd - analytic[i]) / Math.max(Math.abs(analytic[i]), 1e-3), `${name}[${i}]: fd ${fd} vs ${analytic[i]}`).toBeLessThan(2e-6);
  }
}

const perturbed = (a: ArrayLike<number>, i: number, delta: number) => {
  const c = Float64Array.from(a);
  c[i] += delta;
  return c;
};

describe.each([
  ['categorical A = 2', 2, false],
  ['categorical A = 3', 3, false],
  ['Gaussian D = 1', 1, true],
  ['Gaussian D = 2', 2, true],
] as const)('ppoLoss vs central finite differences (%s)', (_, A, gaussian) => {
  for (const clipVloss of [false, true]) {
    for (const normalizeAdvantage of [false, true]) {
      it(`clipVloss ${clipVloss}, normalizeAdvantage ${normalizeAdvantage}`, () => {
        const inp = lossInputs(A, gaussian, { clipVloss, normalizeAdvantage }, 10 * A + (gaussian ? 5 : 0));
        const r = ppoLoss(inp);
        // The rows sit where they were put, away from every kink.
        ROWS.forEach((row, i) => expect(r.ratio[i]).toBeCloseTo(row.ratio, 12));
        for (const kink of [1 - CLIP, 1 + CLIP]) for (const ratio of r.ratio) expect(Math.abs(ratio - kink)).toBeGreaterThan(1e-3);
        expect(r.clipFraction).toBe(ROWS.filter((row) => Math.abs(row.ratio - 1) > CLIP).length / ROWS.length);
        expectGradient('dZ', r.dZ, (i, d) => ppoLoss({ ...inp, z: perturbed(inp.z, i, d) }).loss);
        expectGradient('dValues', r.dValues, (i, d) => ppoLoss({ ...inp, values: perturbed(inp.values, i, d) }).loss);
        if (gaussian) {
          expect(r.dLogStd.length).toBe(A);
          expectGradient('dLogStd', r.dLogStd, (i, d) => ppoLoss({ ...inp, logStd: perturbed(inp.logStd!, i, d) }).loss);
        } else {
          expect(r.dLogStd.length).toBe(0);
        }
        if (normalizeAdvantage) {
          const mean = r.lossAdvantages.reduce((s, a) => s + a, 0) / inp.M;
          const variance = r.lossAdvantages.reduce((s, a) => s + (a - mean) ** 2, 0) / (inp.M - 1);
          expect(mean).toBeCloseTo(0, 12);
          expect(Math.sqrt(variance)).toBeCloseTo(1, 7);
        } else {
          expect(Array.from(r.lossAdvantages)).toEqual(Array.from(inp.advantages));
        }
      });
    }
  }

  it('gives exactly no policy gradient on clipped rows and some on the unclipped side outside the range (entCoef 0)', () => {
    const inp = lossInputs(A, gaussian, { entCoef: 0, normalizeAdvantage: true }, 10 * A + 1);
    const r = ppoLoss(inp);
    ROWS.forEach((row, i) => {
      const dz = Array.from(r.dZ.subarray(i * A, (i + 1) * A));
      if (row.zeroPg) expect(dz.every((g) => g === 0), `row ${i}: ${dz}`).toBe(true);
      else expect(dz.some((g) => Math.abs(g) > 1e-6), `row ${i}`).toBe(true);
    });
  });

  it('gives exactly no value gradient where the clipped value error wins, and some elsewhere', () => {
    const clipped = ppoLoss(lossInputs(A, gaussian, { clipVloss: true }, 7));
    const plain = ppoLoss(lossInputs(A, gaussian, { clipVloss: false }, 7));
    for (let i = 0; i < ROWS.length; i++) {
      if (VALUE_KINDS[i % 3] === 'clippedWins') expect(Math.abs(clipped.dValues[i]), `row ${i}`).toBe(0);
      else expect(Math.abs(clipped.dValues[i]), `row ${i}`).toBeGreaterThan(1e-3);
      expect(Math.abs(plain.dValues[i]), `row ${i}`).toBeGreaterThan(1e-3);
    }
  });
});

describe('ppoLoss on a case worked out by hand', () => {
  /*
   * M = 2, A = 2, logits [0, 0] in both rows: p = (½, ½), log p = −ln 2, H = ln 2, and H's gradient
   * p_k(log p_k + H) is 0. c = 0.2, entCoef 0.01, vfCoef 0.5, raw advantages (2, −1), clipVloss on.
   *   row 0: action 0, old log-prob −ln 2 − ln 1.5 → ratio 1.5 (outside), Â = 2:
   *          pg1 = −3, pg2 = −2·1.2 = −2.4 → max −2.4, the clipped branch: no gradient.
   *          V = 0.9, V_old = 0.5, R = 1: (V − R)² = 0.01; V − V_old = 0.4 clamps to 0.2, V_clip = 0.7,
   *          (0.7 − 1)² = 0.09 wins → no value gradient.
   *   row 1: action 1, old log-prob −ln 2 − ln 1.1 → ratio 1.1 (inside), Â = −1: pg1 = pg2 = 1.1.
   *          dlogp = (1/2)·(−Â)·ratio = 0.55; dz = 0.55·((0, 1) − ½) = (−0.275, 0.275).
   *          V = 2.5, V_old = 2.1, R = 2: (0.5)² = 0.25 against V_clip = 2.3, (0.3)² = 0.09: 0.25 wins,
   *          dV = 0.5·½·(1/2)·2·0.5 = 0.125.
   *   pgLoss = (−2.4 + 1.1)/2 = −0.65;  vLoss = ½·(0.09 + 0.25)/2 = 0.085;  entropy = ln 2
   *   loss = −0.65 − 0.01·ln 2 + 0.5·0.085 = −0.6075 − 0.01·ln 2
   *   approxKl = ((0.5 − ln 1.5) + (0.1 − ln 1.1))/2;  clipFraction = 1/2 (row 0 only)
   * With the advantages normalized: mean ½, unbiased std 1.5·√2, Â = ±1.5/(1.5√2 + 1e-8) ≈ ±1/√2; row 0
   * still clipped (−1.2·Â₀), row 1 inside (1.1·|Â₁|): pgLoss = (−1.2 + 1.1)·Â₀/2 = −0.05·Â₀.
   */
  const inp: PpoLossInputs = {
    z: [0, 0, 0, 0],
    logStd: null,
    actions: Uint32Array.of(0, 1),
    oldLogProb: [-Math.LN2 - Math.log(1.5), -Math.LN2 - Math.log(1.1)],
    advantages: [2, -1],
    returns: [1, 2],
    oldValues: [0.5, 2.1],
    values: [0.9, 2.5],
    normalizeAdvantage: false,
    clipCoef: 0.2,
    clipVloss: true,
    entCoef: 0.01,
    vfCoef: 0.5,
    M: 2,
    A: 2,
  };

  it('matches the hand-computed losses, statistics and gradients', () => {
    const r = ppoLoss(inp);
    const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThan(1e-12);
    close(r.ratio[0], 1.5);
    close(r.ratio[1], 1.1);
    close(r.pgLoss, -0.65);
    close(r.vLoss, 0.085);
    close(r.entropy, Math.LN2);
    close(r.loss, -0.6075 - 0.01 * Math.LN2);
    close(r.approxKl, (0.5 - Math.log(1.5) + 0.1 - Math.log(1.1)) / 2);
    expect(r.clipFraction).toBe(0.5);
    [0, 0, -0.275, 0.275].forEach((g, k) => close(r.dZ[k], g));
    expect(Math.abs(r.dValues[0])).toBe(0);
    close(r.dValues[1], 0.125);
  });

  it('normalizes the advantages with the unbiased std + 1e-8', () => {
    const r = ppoLoss({ ...inp, normalizeAdvantage: true });
    const a0 = 1.5 / (1.5 * Math.SQRT2 + 1e-8);
    expect(Math.abs(r.lossAdvantages[0] - a0)).toBeLessThan(1e-15);
    expect(Math.abs(r.lossAdvantages[1] + a0)).toBeLessThan(1e-15);
    expect(Math.abs(r.pgLoss + 0.05 * a0)).toBeLessThan(1e-12);
  });

  it('normalizes a single row to Â = 0 (torch would give NaN): only the value and entropy terms remain', () => {
    const one = ppoLoss({ ...inp, M: 1, z: [0.3, -0.2], actions: [1], oldLogProb: [-0.5], advantages: [5], returns: [1], oldValues: [0.5], values: [0.9], normalizeAdvantage: true, entCoef: 0 });
    expect(one.lossAdvantages[0]).toBe(0);
    expect(Object.is(one.pgLoss, -0) || one.pgLoss === 0).toBe(true);
    expect(Array.from(one.dZ).every((g) => g === 0)).toBe(true);
  });

  it('splits the gradient of an exact tie of the value terms half and half, as torch.maximum', () => {
    // V_old = 0, V = 1, c = 0.25: V_clip = 0.25; R = 0.625 puts V − R = 0.375 and V_clip − R = −0.375 (exact
    // in binary), so max((V − R)², (V_clip − R)²) ties. The unclipped branch's derivative is 2·0.375, the
    // clipped one's 0 (clamp saturated); half each: 0.375, times vfCoef·½·(1/M) = 0.5·0.5·1.
    const r = ppoLoss({ ...inp, M: 1, z: [0, 0], actions: [0], oldLogProb: [-Math.LN2], advantages: [1], returns: [0.625], oldValues: [0], values: [1], clipCoef: 0.25 });
    expect(r.dValues[0]).toBe(0.5 * 0.5 * 0.375);
    expect(r.vLoss).toBe(0.5 * 0.375 ** 2);
  });

  it('counts a ratio of exactly 1 + c as not clipped and keeps its policy gradient (c = 0, ratio 1)', () => {
    // log π(0|s) of logits [0, 0] is exactly −ln 2, so the ratio is exp(0) = 1 = 1 ± c: |ratio − 1| > c is false,
    // and the tie of the two branches keeps the full −Â·ratio gradient through clamp's inclusive bounds:
    // dz = (1/M)·(−Â)·((1, 0) − ½) with Â = 2.
    const r = ppoLoss({ ...inp, M: 1, z: [0, 0], actions: [0], oldLogProb: [-Math.log(2)], advantages: [2], returns: [0], oldValues: [0], values: [0], clipCoef: 0, entCoef: 0 });
    expect(r.ratio[0]).toBe(1);
    expect(r.clipFraction).toBe(0);
    expect(Array.from(r.dZ)).toEqual([-1, 1]);
  });

  it("passes clamp's gradient at the bounds, inclusive", () => {
    // V − V_old = 0.25 = c exactly (binary-exact), so V_clip = V and the two branches tie: half each, and the
    // clipped half survives only with clamp's derivative 1 at the bound. Together the full 2(V − R).
    const r = ppoLoss({ ...inp, M: 1, z: [0, 0], actions: [0], oldLogProb: [-Math.LN2], advantages: [1], returns: [0], oldValues: [0.5], values: [0.75], clipCoef: 0.25 });
    expect(r.dValues[0]).toBe(0.5 * 0.5 * 2 * 0.75);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The whole update on CPU rollouts.

/** Env slots at the reset state of (seed, env, 0), as rolloutReset leaves them. */
function resetSlots(env: EnvSpec, seed: number, N: number): Uint32Array {
  const S = env.stateNames.length;
  const slots = new Uint32Array(N * (S + 4));
  const f32 = new Float32Array(slots.buffer);
  for (let n = 0; n < N; n++) env.cpu!.reset(f32.subarray(n * (S + 4), n * (S + 4) + S), seed, n, 0, 'f32');
  return slots;
}

interface Setup {
  shape: NetShape;
  state: OptimizerState;
  ro: RolloutTensors & { logits: Float64Array };
  config: PpoConfig & TrainConfig;
}

const SEED = 3;
const UPDATE = 2;

function setup(envId: string, overrides: Partial<TrainConfig> = {}, T = 8, N = 4): Setup {
  const config = { ...defaultConfig('ppo', envId), netArch: '8,6', nSteps: T, numEnvs: N, updateEpochs: 3, numMinibatches: 4, learningRate: 3e-3, ...overrides };
  const env = envSpec(envId);
  const shape = netShapeOf(config, env);
  const P = paramLayout(shape).total;
  // PyTorch's init: logits and means far enough from 0 that the policy is not uniform.
  const params = initParams(new Float32Array(P), shape, 'pytorch', SEED, -0.3);
  const ro = rolloutCollect({ params, shape, env, envs: resetSlots(env, SEED, N), seed: SEED, update: UPDATE, T, N });
  return { shape, state: { params, optM: new Float32Array(P), optV: new Float32Array(P) }, ro, config };
}

const ENVS = ['CartPole-v1', 'Pendulum-v1'] as const;

describe.each(ENVS)('ppoUpdateReference on a CPU rollout of %s (T = 8, N = 4)', (envId) => {
  it('takes E·MB optimizer steps, leaves its input state alone, and partitions the batch every epoch', () => {
    const s = setup(envId);
    const before = { params: s.state.params.slice(), optM: s.state.optM.slice(), optV: s.state.optV.slice() };
    const r = ppoUpdateReference(s.state, s.shape, s.ro, { ...s.config, targetKl: null }, UPDATE, SEED, 5);
    expect(r.stepsAfter - 5).toBe(3 * 4);
    expect(r.epochsRun).toBe(3);
    expect(r.minibatches.map((m) => [m.epoch, m.minibatch])).toEqual([0, 1, 2].flatMap((e) => [0, 1, 2, 3].map((m) => [e, m])));
    expect(r.minibatches.every((m) => m.nonFinite === 0 && m.rows.length === 8)).toBe(true);
    expect(s.state).toEqual(before);
    expect(Array.from(r.state.params)).not.toEqual(Array.from(before.params));
    const B = 32;
    const epochs = [0, 1, 2].map((e) => r.minibatches.filter((m) => m.epoch === e).flatMap((m) => Array.from(m.rows)));
    for (const rows of epochs) expect(rows.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: B }, (_, i) => i));
    expect(epochs[0]).toEqual(Array.from(ppoPermutation(SEED, UPDATE, 0, B)));
    expect(epochs[1]).not.toEqual(epochs[0]);
    // CleanRL's logged values: the last minibatch's, the clip fraction over all of them.
    const last = r.minibatches[11];
    expect([r.pgLoss, r.vLoss, r.entropy, r.approxKl]).toEqual([last.pgLoss, last.vLoss, last.entropy, last.approxKl]);
    expect(r.clipFraction).toBeCloseTo(r.minibatches.reduce((a, m) => a + m.clipFraction, 0) / 12, 15);
    // The policy moved: later minibatches see ratios away from 1.
    expect(last.approxKl).toBeGreaterThan(0);
  });

  it("takes the old log-probabilities of the rollout's own policy", () => {
    const s = setup(envId);
    const r = ppoUpdateReference(s.state, s.shape, s.ro, s.config, UPDATE, SEED, 0);
    const A = s.shape.numActions;
    const logStd = s.shape.policy === 'gaussian' ? Float64Array.from(tensorView(s.state.params, paramLayout(s.shape).logStd!)) : null;
    const actions = logStd ? s.ro.boxActions! : s.ro.actions;
    for (let i = 0; i < 32; i++) expect(Math.abs(r.oldLogProb[i] - logProbHere(s.ro.logits, logStd, actions, i, A))).toBeLessThan(1e-12);
  });

  it('stops after the first epoch when its last approxKl exceeds a tiny targetKl, and runs them all under a huge one', () => {
    const s = setup(envId);
    const r = ppoUpdateReference(s.state, s.shape, s.ro, { ...s.config, targetKl: 1e-9 }, UPDATE, SEED, 7);
    expect(r.epochsRun).toBe(1);
    expect(r.stepsAfter - 7).toBe(4);
    expect(r.minibatches.length).toBe(4);
    expect(r.approxKl).toBeGreaterThan(1e-9);
    const all = ppoUpdateReference(s.state, s.shape, s.ro, { ...s.config, targetKl: 1e9 }, UPDATE, SEED, 7);
    expect([all.epochsRun, all.stepsAfter]).toEqual([3, 19]);
  });

  it("clips the value loss around the rollout's stored values of the minibatch's rows", () => {
    // Stored values moved ±0.5 away from V(s) so that the clip bites on the first minibatch already.
    const s = setup(envId, { clipVloss: true, clipCoef: 0.2 });
    const ro = { ...s.ro, values: s.ro.values.map((v, i) => v + (i % 2 === 0 ? 0.5 : -0.5)) };
    const r = ppoUpdateReference(s.state, s.shape, ro, s.config, UPDATE, SEED, 0);
    const rows = Array.from(r.minibatches[0].rows);
    const x = Float64Array.from(rows.flatMap((row) => Array.from(ro.obs.subarray(row * ro.O, (row + 1) * ro.O))));
    const V = actorCriticForward(s.state.params, s.shape, x, rows.length).values;
    let clipped = 0, plain = 0;
    rows.forEach((row, j) => {
      const R = r.targets.returns[row];
      const old = ro.values[row];
      const vClip = old + Math.min(Math.max(V[j] - old, -0.2), 0.2);
      clipped += Math.max((V[j] - R) ** 2, (vClip - R) ** 2);
      plain += (V[j] - R) ** 2;
    });
    expect(Math.abs(clipped - plain)).toBeGreaterThan(1e-3);
    expect(r.minibatches[0].vLoss).toBeCloseTo((0.5 * clipped) / rows.length, 12);
  });

  it('skips the minibatches that read a non-finite row, still counting their steps', () => {
    const s = setup(envId);
    const config = { ...s.config, targetKl: null, normalizeAdvantage: true };
    // Row 0's reward reaches only row 0's advantage and return (GAE runs backwards from later steps).
    const one = { ...s.ro, rewards: s.ro.rewards.slice() };
    one.rewards[0] = Number.NaN;
    const r = ppoUpdateReference(s.state, s.shape, one, config, UPDATE, SEED, 0);
    expect(r.stepsAfter).toBe(12);
    expect(r.minibatches.map((m) => m.nonFinite !== 0)).toEqual(r.minibatches.map((m) => m.rows.includes(0)));
    expect(r.state.params.every(Number.isFinite)).toBe(true);
    const all = ppoUpdateReference(s.state, s.shape, { ...s.ro, rewards: s.ro.rewards.map(() => Number.NaN) }, config, UPDATE, SEED, 0);
    expect(all.stepsAfter).toBe(12);
    expect(all.minibatches.every((m) => m.nonFinite !== 0)).toBe(true);
    expect(Array.from(all.state.params)).toEqual(Array.from(s.state.params));
  });

  for (const [normalizeAdvantage, clipCoef, clipVloss] of [[false, 1e9, false], [true, 0.2, true]] as const) {
    it(`at ratio 1 has the A2C reference's gradient on the same rows (vfCoef doubled for CleanRL's ½; normalizeAdvantage ${normalizeAdvantage}, clipCoef ${clipCoef}, clipVloss ${clipVloss})`, () => {
      // A2C's policy term −Â·log π has the gradient −Â·∇log π; PPO's −Â·ratio has −Â·ratio·∇log π, the same at
      // ratio 1 (the first minibatch: the parameters are still the rollout's). A2C's value loss has no ½.
      // Neither clip acts there: ratio = 1 and V = V_old (the rollout's values) sit inside any range.
      const s = setup(envId, { entCoef: 0.02, vfCoef: 0.8, clipCoef, clipVloss, normalizeAdvantage, lrSchedule: 'constant' });
      const ppoConfig = { ...s.config, targetKl: null, updateEpochs: 1 };
      const a2cConfig = { ...s.config, algo: 'a2c' as const, vfCoef: 0.4 };
      const gaussian = s.shape.policy === 'gaussian';
      const A = s.shape.numActions;
      const O = s.ro.O;
      const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, g) => Math.max(m, Math.abs(g)), 0);

      // Four minibatches: the first one's rows as a rollout of their own (one step of M "envs").
      const r = ppoUpdateReference(s.state, s.shape, s.ro, ppoConfig, UPDATE, SEED, 0);
      const first = r.minibatches[0];
      const rows = Array.from(first.rows);
      const M = rows.length;
      const sub: RolloutTensors = {
        ...s.ro,
        T: 1,
        N: M,
        obs: Float32Array.from(rows.flatMap((row) => Array.from(s.ro.obs.subarray(row * O, (row + 1) * O)))),
        actions: Uint32Array.from(rows, (row) => s.ro.actions[row]),
        boxActions: gaussian ? Float32Array.from(rows.flatMap((row) => Array.from(s.ro.boxActions!.subarray(row * A, (row + 1) * A)))) : null,
      };
      const subTargets = { advantages: Float64Array.from(rows, (row) => r.targets.advantages[row]), returns: Float64Array.from(rows, (row) => r.targets.returns[row]), weights: new Uint8Array(M).fill(1) };
      const a2c = lossAndGradients(s.state.params, s.shape, sub, subTargets, a2cConfig);
      const scale = maxAbs(a2c.grads);
      expect(scale).toBeGreaterThan(1e-4);
      for (let i = 0; i < a2c.grads.length; i++) expect(Math.abs(first.grads[i] - a2c.grads[i]), `grads[${i}]`).toBeLessThan(1e-11 * scale);
      expect(first.entropy).toBeCloseTo(a2c.entropy, 12);
      expect(first.vLoss).toBeCloseTo(0.5 * a2c.valueLoss, 12);
      expect(Math.abs(first.approxKl)).toBeLessThan(1e-14);

      // One minibatch of the whole batch: the whole A2C update, the optimizer step included (Adam's t = 5 + 1).
      const whole = ppoUpdateReference(s.state, s.shape, s.ro, { ...ppoConfig, numMinibatches: 1 }, UPDATE, SEED, 5);
      const a2cUpdate = updateReference(s.state, s.shape, s.ro, a2cConfig, 5);
      for (let i = 0; i < a2cUpdate.grads.length; i++) expect(Math.abs(whole.minibatches[0].grads[i] - a2cUpdate.grads[i])).toBeLessThan(1e-11 * maxAbs(a2cUpdate.grads));
      expect(whole.stepsAfter).toBe(6);
      expect(whole.explainedVariance).toBe(a2cUpdate.explainedVariance);
      for (let i = 0; i < a2cUpdate.state.params.length; i++) expect(whole.state.params[i]).toBeCloseTo(a2cUpdate.state.params[i], 6);
      expect(Array.from(whole.state.params)).not.toEqual(Array.from(s.state.params));
    });
  }
});

describe('ppoUpdateReference rejects what PPO cannot run', () => {
  it('a minibatch count that does not divide the batch', () => {
    const s = setup('CartPole-v1');
    expect(() => ppoUpdateReference(s.state, s.shape, s.ro, { ...s.config, numMinibatches: 5 }, UPDATE, SEED, 0)).toThrow(/do not split the batch of 32/);
  });
});
