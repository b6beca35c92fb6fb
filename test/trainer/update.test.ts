/**
 * One full update on the GPU against the CPU references (src/cpu/rollout.ts, src/cpu/update.ts), llm.c's
 * test_gpt2 shape: update 0 tensor by tensor from identical parameters, env slots and RNG counters, then
 * a short loss trajectory, then bit-repeatability. Each stage after the rollout is fed the GPU's own
 * inputs, so a disagreement names its stage and one sampled action cannot cascade.
 *
 * Tolerances, f32 GPU vs f64 CPU (the measured worst error is given as a fraction of each):
 *   rollout     obs 1e-5 abs (0.04; sin/cos may differ by an ulp per step and the state drifts over T),
 *               logits 1e-7 abs + 1e-5 rel (0.02), values 1e-5 abs + 1e-5 rel (0.02)
 *   actions     may differ only where u lies within 1e-5 of the CDF boundary; done flags only within 1e-5
 *               of a threshold (that env then leaves the later rows of the comparison)
 *   targets     1e-5 rel + 1e-5 abs (0.03): T-step f32 recursions over O(10) returns
 *   gradients   1e-4 rel + 1e-5·max|tensor| abs (0.04): a sum of B f32 terms in chains of 64..16k
 *               additions errs by ~ε·√chain relative to Σ|terms|, and with normalized advantages the
 *               output-layer sums cancel, so the absolute part scales with the tensor, not the element;
 *               1e-4·max at B = 4M, where every backward workgroup chains 256 chunks
 *   losses      policy loss 1e-5·mean|Â·log π| abs (0.3; the loss itself cancels to ~0), value loss and
 *               entropy 1e-5 rel (0.05, 0.2), gradient norm and clip scale 1e-5 rel (0.01)
 *   optimizer   on the GPU's own gradients: params 3e-5 of the largest step + 2 ulp (0.2), Adam's m 2e-6
 *               rel (0.2), v 5e-5 rel (0.3). The GPU forms 1 − β1 and 1 − β2 from the f32 β's, 2.4e-7 and
 *               1.3e-5 off PyTorch's f64 constants, which moves v, and through √v the step, by that much.
 *   10 updates  losses, advantage moments, gradient norm 1e-4 rel (0.02); final parameters 1e-4 of the
 *               distance moved (7e-6 measured)
 */
import { describe, expect, it } from 'vitest';
import { resetComponent } from '../../src/envs/cartpole.ts';
import { CpuCartPoleVecEnv } from '../../src/envs/cpu-vec-env.ts';
import { initParams } from '../../src/cpu/init.ts';
import { rolloutCollect, sampleAction, stateValues, type RolloutArgs } from '../../src/cpu/rollout.ts';
import { computeTargets, updateReference, type OptimizerState } from '../../src/cpu/update.ts';
import { GpuTrainer } from '../../src/trainer/gpu-trainer.ts';
import type { TrainConfig } from '../../src/config.ts';
import { cartPoleParams, cartPoleSpec } from '../../src/envs/cartpole.ts';
import { paramLayout } from '../../src/model/layout.ts';
import { useGpu } from '../helpers/gpu.ts';
import { ENV_SLOT_WORDS, expectClose, readF32, readMetrics, readUpdate, resetSlots, selectEnvs, setSlot, submitUpdate, trainConfig } from './harness.ts';
import { checkRollout, checkTargetsAndUpdate, checkUpdateZero, type Case } from './checks.ts';
import type { Scenario } from './scenarios.ts';

const gpu = useGpu();

// Every distinct (algo, activation, hidden) compiles its own pipelines, 5–20 s each on a cold lavapipe
// shader cache, so the cases share four of them. H = 72 gives some backward threads two hidden units;
// a2c runs at H = 4 so that the 4M-env case can share its pipelines.
const A2C = { algo: 'a2c', activation: 'tanh', hidden: 4 } as const;
const REINFORCE = { algo: 'reinforce', activation: 'relu', hidden: 72 } as const;
const QAC = { algo: 'qac', activation: 'tanh', hidden: 72 } as const;
const TDAC = { algo: 'tdac', activation: 'relu', hidden: 72 } as const;
// H >= 256 switches the backward to four hidden units per thread; 300 leaves a partial block of 256.
const WIDE = { algo: 'a2c', activation: 'relu', hidden: 300 } as const;

/**
 * Dawn hands out an existing pipeline for an identical descriptor only while that pipeline is alive:
 * holding every trainer made here (buffers destroyed) spares lavapipe recompiling a constant set.
 */
const trainers: GpuTrainer[] = [];
function makeTrainer(config: TrainConfig): GpuTrainer {
  const trainer = new GpuTrainer(gpu(), config);
  trainers.push(trainer);
  return trainer;
}

const EDGES: [number, Scenario][] = [
  [0, 'truncatedInside'],
  [1, 'truncatedLast'],
  [2, 'terminatedInside'],
  [3, 'terminatedLast'],
  [4, 'bothAtOnce'],
];

const CASES: Case[] = [
  {
    name: 'a2c, tanh, Adam, normalized, N = 64, T = 16, entropy bonus, episode ends injected',
    config: { ...A2C, numEnvs: 64, nSteps: 16, optimizer: 'adam', normalizeAdvantage: true, entCoef: 0.01, seed: 7 },
    scenarios: [...EDGES, [63, 'truncatedInside']],
  },
  {
    name: 'a2c, tanh, RMSprop, raw advantages, N = 65, T = 8, no clipping, linear schedule',
    config: { ...A2C, numEnvs: 65, nSteps: 8, optimizer: 'rmsprop', normalizeAdvantage: false, maxGradNorm: 0, lrSchedule: 'linear', totalSteps: 5000, seed: 8 },
  },
  {
    name: 'reinforce, relu, Adam, normalized, N = 63, T = 32, episode ends injected',
    config: { ...REINFORCE, numEnvs: 63, nSteps: 32, optimizer: 'adam', normalizeAdvantage: true, seed: 9 },
    scenarios: EDGES,
  },
  {
    name: 'reinforce, relu, RMSprop, raw advantages, N = 1100, T = 16 (several chunks per backward workgroup)',
    config: { ...REINFORCE, numEnvs: 1100, nSteps: 16, optimizer: 'rmsprop', normalizeAdvantage: false, entCoef: 0.01, seed: 10 },
  },
  {
    name: 'qac, tanh, RMSprop, normalized, N = 65, T = 16, episode ends injected',
    config: { ...QAC, numEnvs: 65, nSteps: 16, optimizer: 'rmsprop', normalizeAdvantage: true, seed: 11 },
    scenarios: [...EDGES, [64, 'terminatedLast']],
  },
  {
    name: 'qac, tanh, Adam, raw advantages, N = 1100, T = 16 (several chunks per backward workgroup)',
    config: { ...QAC, numEnvs: 1100, nSteps: 16, optimizer: 'adam', normalizeAdvantage: false, seed: 12 },
  },
  {
    name: 'tdac, relu, Adam, raw advantages, N = 1, T = 6, pole falls on the time limit',
    config: { ...TDAC, numEnvs: 1, nSteps: 6, optimizer: 'adam', normalizeAdvantage: false, seed: 13 },
    scenarios: [[0, 'bothAtOnce']],
  },
  {
    name: 'a2c, relu, H = 300, N = 1030, T = 8: four envs per rollout invocation (a partial last one), four hidden units per backward thread',
    config: { ...WIDE, numEnvs: 1030, nSteps: 8, optimizer: 'adam', normalizeAdvantage: true, entCoef: 0.01, seed: 15 },
    scenarios: [[0, 'truncatedInside'], [1025, 'terminatedInside'], [1028, 'bothAtOnce'], [1029, 'truncatedLast']],
  },
  {
    name: 'tdac, relu, shared trunk, Adam, normalized, N = 65, T = 8: the trunk gradient sums both heads',
    config: { ...TDAC, sharedTrunk: true, numEnvs: 65, nSteps: 8, optimizer: 'adam', normalizeAdvantage: true, entCoef: 0.01, seed: 16 },
  },
  {
    name: 'a2c, relu, H = 300, shared trunk, N = 1030, T = 4: the four-unit backward with a shared trunk',
    config: { ...WIDE, sharedTrunk: true, numEnvs: 1030, nSteps: 4, optimizer: 'rmsprop', normalizeAdvantage: true, seed: 17 },
  },
  {
    name: 'tdac, relu, RMSprop, normalized, N = 64, T = 16, episode ends injected',
    config: { ...TDAC, numEnvs: 64, nSteps: 16, optimizer: 'rmsprop', normalizeAdvantage: true, entCoef: 0.02, seed: 14 },
    scenarios: EDGES,
  },
];

describe('the CPU references themselves', () => {
  const shape = { obsSize: 4, hiddenSize: 8, numActions: 2, valueOutputs: 1, activation: 'tanh' } as const;
  const envParams = cartPoleParams('CartPole-v1');

  it('rolloutCollect steps, ends and resets episodes exactly as CpuCartPoleVecEnv under the same actions', () => {
    const N = 6, T = 40, seed = 5;
    const params = initParams(new Float32Array(paramLayout(shape).total), shape, 'pytorch', seed);
    const env = new CpuCartPoleVecEnv(N, envParams, 'f32');
    env.reset(seed);
    const slots = resetSlots(seed, N);
    setSlot(slots, 0, Array.from(env.states.subarray(0, 4)), envParams.maxEpisodeSteps - 7, 0);
    env.elapsed[0] = envParams.maxEpisodeSteps - 7;
    const ro = rolloutCollect({ params, shape, env: cartPoleSpec('CartPole-v1'), envs: slots, seed, update: 3, T, N });
    expect(Array.from(ro.actions)).toEqual(Array.from(ro.sampledActions));
    for (let t = 0; t < T; t++) {
      expect(Array.from(ro.obs.subarray(t * N * 4, (t + 1) * N * 4)), `obs at step ${t}`).toEqual(Array.from(env.states));
      const out = env.step(ro.actions.subarray(t * N, (t + 1) * N));
      expect(Array.from(ro.terminated.subarray(t * N, (t + 1) * N)), `terminated at step ${t}`).toEqual(Array.from(out.terminated));
      expect(Array.from(ro.truncated.subarray(t * N, (t + 1) * N)), `truncated at step ${t}`).toEqual(Array.from(out.truncated));
      for (let n = 0; n < N; n++) {
        const truncatedOnly = out.truncated[n] === 1 && out.terminated[n] === 0;
        const want = truncatedOnly ? stateValues(params, shape, out.finalObs.subarray(n * 4, n * 4 + 4), 1)[0] : 0;
        expect(ro.bootstrapValues[t * N + n], `bootstrap value at step ${t}, env ${n}`).toBe(want);
      }
    }
    expect(ro.truncated[6 * N], 'the injected time limit').toBe(1);
    expect(ro.terminated.some((x) => x === 1), 'a pole fell').toBe(true);
    expect(Array.from(ro.lastValues)).toEqual(Array.from(stateValues(params, shape, env.states, N)));
    expect(ro.finishedLengths).toEqual(env.finishedLengths);
  });

  it('sampleAction is the inverse CDF: action 0 exactly when u < π(0)', () => {
    const logp = [Math.log(0.25), Math.log(0.75)];
    expect([0, 0.2499999, 0.25, 0.9999999].map((u) => sampleAction(logp, 0, 2, u))).toEqual([0, 0, 1, 1]);
  });

  it('qac and tdac targets: R = r + γ·next (SARSA next value, bootstrap at a time limit), A = Q(s, a) or the TD error', () => {
    // T = 3, N = 1: truncated at t = 1, rollout cut after t = 2.
    const ro = {
      T: 3, N: 1, obs: new Float32Array(12), actions: new Uint32Array(3),
      rewards: Float64Array.of(1, 1, 1), terminated: Uint8Array.of(0, 0, 0), truncated: Uint8Array.of(0, 1, 0),
      values: Float64Array.of(2, 4, 6), bootstrapValues: Float64Array.of(0, 10, 0), lastValues: Float64Array.of(8), boxActions: null,
    };
    const base = trainConfig({ gamma: 0.5, gaeLambda: 0.9 });
    const qac = computeTargets(ro, { ...base, algo: 'qac' });
    expect(Array.from(qac.returns)).toEqual([1 + 0.5 * 4, 1 + 0.5 * 10, 1 + 0.5 * 8]);
    expect(Array.from(qac.advantages)).toEqual([2, 4, 6]);
    const tdac = computeTargets(ro, { ...base, algo: 'tdac' });
    expect(Array.from(tdac.advantages)).toEqual([1 + 2 - 2, 1 + 5 - 4, 1 + 4 - 6]);
    const a2c = computeTargets(ro, { ...base, algo: 'a2c' });
    expect(a2c.advantages[0]).toBeCloseTo(1 + 0.5 * 0.9 * 2, 12);
  });
});

describe('update 0: GPU vs CPU reference, tensor by tensor, from identical parameters, env slots and RNG counters', () => {
  for (const c of CASES) it(c.name, () => checkUpdateZero(gpu(), c, makeTrainer));
  // The awkward batch sizes B = T·N themselves (T = 1): one row, a workgroup less one, exact, plus one,
  // and 4097 rows (the batched rollout, 65 backward chunks).
  for (const [b, base] of [[1, A2C], [63, TDAC], [64, TDAC], [65, TDAC], [4097, TDAC]] as const) {
    it(`B = ${b} rows (N = ${b}, T = 1, ${base.algo})`, () =>
      checkUpdateZero(gpu(), { name: `B = ${b}`, config: { ...base, numEnvs: b, nSteps: 1, optimizer: 'adam', normalizeAdvantage: b > 1, seed: 20 + b } }));
  }

  it('N = 65535·64 + 1, T = 1, H = 4: rolloutReset and computeAdvantages fold into a 2-D grid, rolloutCollect4 spans every env', async () => {
    const config = trainConfig({ ...A2C, numEnvs: 65535 * 64 + 1, nSteps: 1, entCoef: 0.01, seed: 15 });
    const { numEnvs: N, seed } = config;
    const trainer = makeTrainer(config);
    const params = trainer.initialize();
    const slots = await trainer.readEnvSlots();
    // One env of every workgroup (both rows of the grid), its lane cycling through 0..63, and the last env.
    const sample = Array.from({ length: Math.ceil(N / 64) }, (_, w) => Math.min(N - 1, w * 64 + (w % 64)));
    const sampleSlots = new Uint32Array(sample.length * ENV_SLOT_WORDS);
    sample.forEach((n, j) => sampleSlots.set(slots.subarray(n * ENV_SLOT_WORDS, (n + 1) * ENV_SLOT_WORDS), j * ENV_SLOT_WORDS));
    let resetErrors = 0;
    const f32 = new Float32Array(sampleSlots.buffer);
    sample.forEach((n, j) => {
      for (let k = 0; k < 4; k++) if (f32[j * ENV_SLOT_WORDS + k] !== resetComponent(seed, n, 0, k, 'f32')) resetErrors++;
      for (let k = 4; k < ENV_SLOT_WORDS; k++) if (sampleSlots[j * ENV_SLOT_WORDS + k] !== 0) resetErrors++;
    });
    expect(resetErrors, 'env slots after rolloutReset').toBe(0);

    submitUpdate(trainer, 0);
    const g = await readUpdate(trainer);
    // Every env stepped: its row holds the state it started from.
    const slotF32 = new Float32Array(slots.buffer);
    let unwritten = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < 4; k++) if (g.rollout.obs[n * 4 + k] !== slotF32[n * ENV_SLOT_WORDS + k]) unwritten++;
    expect(unwritten, 'rollout rows that differ from their env slot').toBe(0);
    const args: RolloutArgs = { params, shape: trainer.shape, env: trainer.env, envs: sampleSlots, seed, update: 0, T: 1, N: sample.length, envIndices: sample };
    const sub = selectEnvs(g, sample);
    checkRollout(sub, rolloutCollect({ ...args, forcedActions: sub.rollout.actions }), args, false);
    // B = 4,194,241 rows: each backward workgroup sums 256 chunks, so the f32 chains are 256× longer.
    checkTargetsAndUpdate(trainer, params, g, 1e-4);
    trainer.destroy();
  });
});

describe('10 updates: GPU losses vs a CPU reference run from the same start', () => {
  const runs: [string, Partial<TrainConfig>][] = [
    ['a2c, tanh, Adam, N = 64, T = 16', { ...A2C, numEnvs: 64, nSteps: 16, entCoef: 0.01, seed: 21 }],
    ['qac, tanh, RMSprop, N = 64, T = 16', { ...QAC, numEnvs: 64, nSteps: 16, optimizer: 'rmsprop', learningRate: 7e-4, seed: 22 }],
  ];
  it.each(runs)('%s', async (_, partial) => {
    const config = trainConfig(partial);
    const { numEnvs: N, nSteps: T, seed } = config;
    const trainer = makeTrainer(config);
    const P = trainer.layout.total;
    const params0 = trainer.initialize();
    let slots = await trainer.readEnvSlots();
    let state: OptimizerState = { params: params0.slice(), optM: new Float32Array(P), optV: new Float32Array(P) };
    let flips = 0;
    for (let update = 0; update < 10; update++) {
      submitUpdate(trainer, update);
      const g = await readUpdate(trainer);
      // The CPU run keeps its own parameters and envs; it takes the GPU's action only where it must.
      const ro = rolloutCollect({ params: state.params, shape: trainer.shape, env: trainer.env, envs: slots, seed, update, T, N, forcedActions: g.rollout.actions });
      for (let i = 0; i < T * N; i++) {
        if (ro.sampledActions[i] === ro.actions[i]) continue;
        flips++;
        const p0 = 1 / (1 + Math.exp(ro.logits[i * 2 + 1] - ro.logits[i * 2]));
        expect(Math.abs(ro.uniforms[i] - p0), `update ${update} row ${i}: sampled action away from the CDF boundary`).toBeLessThan(1e-4);
      }
      let flagErrors = 0;
      for (let i = 0; i < T * N; i++) if (ro.terminated[i] !== g.rollout.terminated[i] || ro.truncated[i] !== g.rollout.truncated[i]) flagErrors++;
      expect(flagErrors, `update ${update}: done flags`).toBe(0);
      const r = updateReference(state, trainer.shape, ro, config, update);
      const at = `update ${update}`;
      expect(g.metrics.weightSum, at).toBe(r.weightSum);
      expectClose(`${at} advantageMean`, [g.metrics.advantageMean], [r.advantageMean], { rtol: 1e-4, atol: 1e-5 });
      expectClose(`${at} advantageStd`, [g.metrics.advantageStd], [r.advantageStd], { rtol: 1e-4, atol: 1e-5 });
      expectClose(`${at} explainedVariance`, [g.metrics.explainedVariance], [r.explainedVariance], { rtol: 1e-4, atol: 1e-4 });
      expectClose(`${at} policyLoss`, [g.metrics.policyLoss], [r.policyLoss], { rtol: 1e-4, atol: 1e-5 });
      expectClose(`${at} valueLoss`, [g.metrics.valueLoss], [r.valueLoss], { rtol: 1e-4, atol: 1e-5 });
      expectClose(`${at} entropy`, [g.metrics.entropy], [r.entropy], { rtol: 1e-5, atol: 0 });
      expectClose(`${at} gradNorm`, [g.metrics.gradNorm], [r.gradNorm], { rtol: 1e-4, atol: 0 });
      state = r.state;
      slots = ro.envs;
    }
    expect(flips, 'actions taken from the GPU at the CDF boundary').toBeLessThanOrEqual(2);
    // Ten steps of ~lr each: the two runs moved the parameters the same way (measured: to 7e-6 of the distance).
    const gpuParams = await readF32(trainer, trainer.buffers.params, P);
    let diff = 0, moved = 0;
    for (let i = 0; i < P; i++) {
      diff += (gpuParams[i] - state.params[i]) ** 2;
      moved += (state.params[i] - params0[i]) ** 2;
    }
    expect(Math.sqrt(diff / moved)).toBeLessThan(1e-4);
    trainer.destroy();
  });
});

describe('bit-repeatability', () => {
  it('two GPU runs of 3 updates from the same inputs give identical bits (qac, N = 1100: 256 backward workgroups)', async () => {
    const config = trainConfig({ ...QAC, numEnvs: 1100, nSteps: 16, seed: 31 });
    const trainer = makeTrainer(config);
    const P = trainer.layout.total;
    const run = async () => {
      trainer.initialize();
      for (let update = 0; update < 3; update++) submitUpdate(trainer, update);
      const b = trainer.buffers;
      const u32 = async (buf: GPUBuffer, n: number) => new Uint32Array((await readF32(trainer, buf, n)).buffer);
      return { params: await u32(b.params, P), optM: await u32(b.optM, P), optV: await u32(b.optV, P), envs: await trainer.readEnvSlots(), metrics: await readMetrics(trainer) };
    };
    const first = await run();
    const second = await run();
    expect(first.params.some((x) => x !== 0)).toBe(true);
    for (const key of ['params', 'optM', 'optV', 'envs'] as const) expect(Buffer.from(second[key].buffer).equals(Buffer.from(first[key].buffer)), key).toBe(true);
    expect(second.metrics).toEqual(first.metrics);
    trainer.destroy();
  });
});
