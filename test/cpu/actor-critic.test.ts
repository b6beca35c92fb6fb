import { describe, expect, it } from 'vitest';
import { actorCriticBackward, actorCriticForward } from '../../src/cpu/actor-critic.ts';
import { initParams } from '../../src/cpu/init.ts';
import { linearForward } from '../../src/cpu/linear.ts';
import { actorCriticLoss } from '../../src/cpu/losses.ts';
import { paramLayout, tensorView, type Activation, type NetShape, type TensorName } from '../../src/model/layout.ts';
import { rngUniform } from '../../src/rng.ts';

const fill = (n: number, seed: number, scale = 1) => Float64Array.from({ length: n }, (_, i) => scale * (2 * rngUniform(seed, 0x7e57, i, 0) - 1));

describe('paramLayout', () => {
  it('puts the eight tensors in order with [in × out] weights', () => {
    const L = paramLayout({ obsSize: 4, hiddenSize: 256, numActions: 2, valueOutputs: 1, activation: 'relu' });
    expect(L.tensors.map((t) => [t.name, t.offset, t.size])).toEqual([
      ['actorW1', 0, 1024],
      ['actorB1', 1024, 256],
      ['actorW2', 1280, 512],
      ['actorB2', 1792, 2],
      ['criticW1', 1794, 1024],
      ['criticB1', 2818, 256],
      ['criticW2', 3074, 256],
      ['criticB2', 3330, 1],
    ]);
    expect(L.total).toBe(3331);
    expect(L.actorW2.shape).toEqual([256, 2]);
    expect(L.criticB1.fanIn).toBe(4);
    expect(paramLayout({ obsSize: 4, hiddenSize: 256, numActions: 2, valueOutputs: 2, activation: 'tanh' }).total).toBe(3331 + 256 + 1); // criticW2 [256×2], criticB2 [2]
  });

  it('rejects a value head that is neither V(s) nor Q(s,·)', () => {
    expect(() => paramLayout({ obsSize: 4, hiddenSize: 8, numActions: 3, valueOutputs: 2, activation: 'relu' })).toThrow();
    expect(() => paramLayout({ obsSize: 0, hiddenSize: 8, numActions: 3, valueOutputs: 1, activation: 'relu' })).toThrow();
  });
});

describe('actorCriticForward on a network written by hand (O = H = A = 2, V = 1)', () => {
  const shape: NetShape = { obsSize: 2, hiddenSize: 2, numActions: 2, valueOutputs: 1, activation: 'relu' };
  const L = paramLayout(shape);
  const params = new Float64Array(L.total);
  const set = (name: TensorName, values: number[]) => tensorView(params, L[name]).set(values);
  set('actorW1', [1, -1, 2, 0.5]); // rows are inputs: W[i][h]
  set('actorB1', [0, 1]);
  set('actorW2', [1, 2, -1, 0]);
  set('actorB2', [0.5, 0]);
  set('criticW1', [0.5, 1, -1, 1]);
  set('criticB1', [0, -1]);
  set('criticW2', [2, 3]);
  set('criticB2', [0.1]);
  const obs = [1, 2, -1, 0];

  it('relu', () => {
    const out = actorCriticForward(params, shape, obs, 2);
    // row 0: actor pre [1 + 4, −1 + 1 + 1] = [5, 1]; logits [5 − 1 + 0.5, 10 + 0] ; critic pre [0.5 − 2, 1 + 2 − 1] = [−1.5, 2] → v = 3·2 + 0.1
    // row 1: actor pre [−1, 1 + 1] = [−1, 2] → [0, 2]; logits [−2 + 0.5, 0]; critic pre [−0.5, −1 − 1] → 0 → v = 0.1
    expect(Array.from(out.actorHidden)).toEqual([5, 1, 0, 2]);
    expect(Array.from(out.logits)).toEqual([4.5, 10, -1.5, 0]);
    expect(Array.from(out.criticHidden)).toEqual([0, 2, 0, 0]);
    expect(Array.from(out.values)).toEqual([6.1, 0.1]);
  });

  it('tanh', () => {
    const out = actorCriticForward(params, { ...shape, activation: 'tanh' }, obs, 2);
    const t = Math.tanh;
    const expected = {
      logits: [t(5) - t(1) + 0.5, 2 * t(5), t(-1) - t(2) + 0.5, 2 * t(-1)],
      values: [2 * t(-1.5) + 3 * t(2) + 0.1, 2 * t(-0.5) + 3 * t(-2) + 0.1],
    };
    expected.logits.forEach((v, i) => expect(out.logits[i]).toBeCloseTo(v, 14));
    expected.values.forEach((v, i) => expect(out.values[i]).toBeCloseTo(v, 14));
  });
});

interface Problem {
  shape: NetShape;
  B: number;
  params: Float64Array;
  obs: Float64Array;
  actions: number[];
  advantages: Float64Array;
  returns: Float64Array;
}

function makeProblem(activation: Activation, V: 'V' | 'Q', H: number, seed: number, sharedTrunk = false): Problem {
  const [O, A, B] = [4, 3, 8];
  const shape: NetShape = { obsSize: O, hiddenSize: H, numActions: A, valueOutputs: V === 'V' ? 1 : A, activation, sharedTrunk };
  const params = initParams(new Float64Array(paramLayout(shape).total), shape, 'pytorch', seed);
  // Larger output layers than the default init so that every term of the loss has a sizeable gradient.
  const L = paramLayout(shape);
  for (const name of ['actorW2', 'criticW2'] as const) tensorView(params, L[name]).forEach((x, i, a) => (a[i] = 4 * x));
  return {
    shape,
    B,
    params,
    obs: fill(B * O, seed + 1, 2),
    actions: Array.from({ length: B }, (_, b) => (b * 7 + seed) % A),
    advantages: fill(B, seed + 2, 2),
    returns: fill(B, seed + 3, 2),
  };
}

function lossAndGrads(pr: Problem, params = pr.params) {
  const cache = actorCriticForward(params, pr.shape, pr.obs, pr.B);
  const { shape, B } = pr;
  const r = actorCriticLoss({
    logits: cache.logits, values: cache.values, actions: pr.actions, advantages: pr.advantages, returns: pr.returns,
    B, A: shape.numActions, V: shape.valueOutputs, vfCoef: 0.5, entCoef: 0.1,
  });
  return { loss: r.loss, cache, dLogits: r.dLogits, dValues: r.dValues };
}

/** Smallest |pre-activation| of both first layers: ReLU finite differences are valid only away from 0. */
function minAbsPreActivation(pr: Problem): number {
  const { obsSize: O, hiddenSize: H } = pr.shape;
  const L = paramLayout(pr.shape);
  let min = Infinity;
  for (const [w, b] of [['actorW1', 'actorB1'], ['criticW1', 'criticB1']] as const) {
    const pre = new Float64Array(pr.B * H);
    linearForward(pre, pr.obs, tensorView(pr.params, L[w]), tensorView(pr.params, L[b]), pr.B, O, H);
    for (const x of pre) min = Math.min(min, Math.abs(x));
  }
  return min;
}

const h = 1e-6;
const fdAlong = (pr: Problem, dir: Float64Array) => {
  const plus = pr.params.map((p, i) => p + h * dir[i]);
  const minus = pr.params.map((p, i) => p - h * dir[i]);
  return (lossAndGrads(pr, plus).loss - lossAndGrads(pr, minus).loss) / (2 * h);
};

describe.each([
  ['relu', 'V', false],
  ['relu', 'Q', false],
  ['tanh', 'V', false],
  ['tanh', 'Q', false],
  ['relu', 'V', true],
  ['tanh', 'Q', true],
] as const)('actorCriticBackward vs central finite differences of the full loss (%s, %s-critic, shared trunk %s)', (activation, critic, shared) => {
  it('every element of every tensor (H = 6)', () => {
    const pr = makeProblem(activation, critic, 6, 31, shared);
    if (activation === 'relu') expect(minAbsPreActivation(pr)).toBeGreaterThan(1e-4);
    const { cache, dLogits, dValues } = lossAndGrads(pr);
    const grads = actorCriticBackward(pr.params, pr.shape, pr.obs, cache, dLogits, dValues, pr.B);
    const L = paramLayout(pr.shape);
    let worst = 0;
    for (const slot of L.tensors) {
      let nonZero = 0;
      for (let e = 0; e < slot.size; e++) {
        const i = slot.offset + e;
        const dir = new Float64Array(L.total);
        dir[i] = 1;
        const fd = fdAlong(pr, dir);
        const err = Math.abs(fd - grads[i]) / Math.max(Math.abs(grads[i]), 1e-3);
        worst = Math.max(worst, err);
        expect(err, `${slot.name}[${e}]: fd ${fd} vs ${grads[i]}`).toBeLessThan(1e-6);
        if (grads[i] !== 0) nonZero++;
      }
      expect(nonZero, `${slot.name} has a gradient`).toBeGreaterThan(0);
    }
  });

  it('random directions in each tensor (H = 64)', () => {
    const pr = makeProblem(activation, critic, 64, 57, shared);
    if (activation === 'relu') expect(minAbsPreActivation(pr)).toBeGreaterThan(1e-5);
    const { cache, dLogits, dValues } = lossAndGrads(pr);
    const grads = actorCriticBackward(pr.params, pr.shape, pr.obs, cache, dLogits, dValues, pr.B);
    const L = paramLayout(pr.shape);
    for (const slot of L.tensors) {
      for (let k = 0; k < 3; k++) {
        const dir = new Float64Array(L.total);
        dir.set(fill(slot.size, 1000 + 10 * slot.index + k), slot.offset);
        const fd = fdAlong(pr, dir);
        let analytic = 0;
        for (let i = 0; i < L.total; i++) analytic += grads[i] * dir[i];
        expect(Math.abs(fd - analytic) / Math.max(Math.abs(analytic), 1e-3), `${slot.name} direction ${k}`).toBeLessThan(1e-6);
      }
    }
  });
});

describe('actorCriticBackward edge cases', () => {
  it('all-negative ReLU inputs in the actor: no gradient reaches its first layer or W2', () => {
    const pr = makeProblem('relu', 'V', 6, 31);
    const L = paramLayout(pr.shape);
    tensorView(pr.params, L.actorB1).fill(-100);
    const { cache, dLogits, dValues } = lossAndGrads(pr);
    expect(cache.actorHidden.every((x) => x === 0)).toBe(true);
    const grads = actorCriticBackward(pr.params, pr.shape, pr.obs, cache, dLogits, dValues, pr.B, new Float64Array(L.total).fill(Number.NaN));
    for (const name of ['actorW1', 'actorB1', 'actorW2'] as const) expect(tensorView(grads, L[name]).every((g) => g === 0), name).toBe(true);
    // The output bias still learns: its gradient is Σ_b dLogits[b, k].
    const dB2 = tensorView(grads, L.actorB2);
    for (let k = 0; k < 3; k++) {
      let s = 0;
      for (let b = 0; b < pr.B; b++) s += dLogits[b * 3 + k];
      expect(dB2[k]).toBeCloseTo(s, 15);
    }
  });

  it('zero advantages and no entropy bonus: the actor gets no gradient, the critic does', () => {
    const pr = makeProblem('tanh', 'V', 6, 31);
    pr.advantages.fill(0);
    const cache = actorCriticForward(pr.params, pr.shape, pr.obs, pr.B);
    const r = actorCriticLoss({
      logits: cache.logits, values: cache.values, actions: pr.actions, advantages: pr.advantages, returns: pr.returns,
      B: pr.B, A: 3, V: 1, vfCoef: 0.5, entCoef: 0,
    });
    const grads = actorCriticBackward(pr.params, pr.shape, pr.obs, cache, r.dLogits, r.dValues, pr.B);
    const L = paramLayout(pr.shape);
    for (const name of ['actorW1', 'actorB1', 'actorW2', 'actorB2'] as const) expect(tensorView(grads, L[name]).every((g) => g === 0), name).toBe(true);
    for (const name of ['criticW1', 'criticB1', 'criticW2', 'criticB2'] as const) expect(tensorView(grads, L[name]).some((g) => g !== 0), name).toBe(true);
  });
});
