/**
 * Networks of any depth (src/model/layout.ts, src/cpu/actor-critic.ts) and the Gaussian head in the update
 * (src/cpu/update.ts): every layer's gradient against central finite differences of the whole loss, for
 * two- and three-layer networks, both activations, separate and shared trunks, categorical and Gaussian
 * policies; the one-layer layout keeps its names and offsets; PyTorch's names follow nn.Sequential.
 */
import { describe, expect, it } from 'vitest';
import { actorCriticBackward, actorCriticForward } from '../../src/cpu/actor-critic.ts';
import { initParams } from '../../src/cpu/init.ts';
import { actorCriticLoss } from '../../src/cpu/losses.ts';
import { allocateRollout } from '../../src/cpu/rollout.ts';
import { lossAndGradients, type UpdateConfig } from '../../src/cpu/update.ts';
import { defaultConfig } from '../../src/config.ts';
import { paramLayout, type NetShape } from '../../src/model/layout.ts';
import { rngUniform } from '../../src/rng.ts';

const fill = (n: number, seed: number, scale = 1) => Float64Array.from({ length: n }, (_, i) => scale * (rngUniform(seed, 77, i, 0) * 2 - 1));

function shapeOf(actor: number[], critic: number[], activation: 'tanh' | 'relu', opts: Partial<NetShape> = {}): NetShape {
  return { obsSize: 5, hiddenSize: actor[0], actorHidden: actor, criticHidden: critic, numActions: 3, valueOutputs: 1, activation, ...opts };
}

describe('layout of deep networks', () => {
  it('keeps the one-layer names and offsets, and names deeper layers as nn.Sequential indices', () => {
    const one = paramLayout({ obsSize: 4, hiddenSize: 8, numActions: 2, valueOutputs: 1, activation: 'tanh' });
    expect(one.tensors.map((t) => [t.name, t.torchName, t.offset])).toEqual([
      ['actorW1', 'actor.0.weight', 0], ['actorB1', 'actor.0.bias', 32], ['actorW2', 'actor.2.weight', 40], ['actorB2', 'actor.2.bias', 56],
      ['criticW1', 'critic.0.weight', 58], ['criticB1', 'critic.0.bias', 90], ['criticW2', 'critic.2.weight', 98], ['criticB2', 'critic.2.bias', 106],
    ]);
    const deep = paramLayout(shapeOf([64, 32, 16], [8], 'tanh', { policy: 'gaussian' }));
    expect(deep.tensors.map((t) => t.torchName)).toEqual([
      'actor.0.weight', 'actor.0.bias', 'actor.2.weight', 'actor.2.bias', 'actor.4.weight', 'actor.4.bias', 'actor.6.weight', 'actor.6.bias',
      'critic.0.weight', 'critic.0.bias', 'critic.2.weight', 'critic.2.bias', 'log_std',
    ]);
    expect(deep.actor.map((l) => [l.inputs, l.outputs, l.activated])).toEqual([[5, 64, true], [64, 32, true], [32, 16, true], [16, 3, false]]);
    expect(deep.logStd!.shape).toEqual([3]);
    expect(deep.total).toBe(5 * 64 + 64 + 64 * 32 + 32 + 32 * 16 + 16 + 16 * 3 + 3 + 5 * 8 + 8 + 8 + 1 + 3);
    const shared = paramLayout(shapeOf([16, 16], [16, 16], 'relu', { sharedTrunk: true }));
    expect(shared.critic[0]).toBe(shared.actor[0]);
    expect(shared.critic[1]).toBe(shared.actor[1]);
    expect(shared.critic[2].weight.torchName).toBe('critic.4.weight');
    expect(() => paramLayout(shapeOf([16], [32], 'relu', { sharedTrunk: true }))).toThrow(/shared trunk needs the same hidden layers/);
  });

  it('initialises every hidden layer with gain √2, the heads with 0.01 and 1, log_std with 0 (orthogonal)', () => {
    const shape = shapeOf([12, 10], [9, 7, 6], 'tanh', { policy: 'gaussian' });
    const L = paramLayout(shape);
    const params = initParams(new Float64Array(L.total).fill(Number.NaN), shape, 'orthogonal', 3);
    expect(params.every(Number.isFinite)).toBe(true);
    const gram = (slot: (typeof L.tensors)[number]) => {
      const [rows, cols] = slot.shape as [number, number];
      const w = params.subarray(slot.offset, slot.offset + slot.size);
      const small = Math.min(rows, cols);
      let diag = 0;
      for (let a = 0; a < small; a++) {
        let s = 0;
        for (let b = 0; b < Math.max(rows, cols); b++) s += rows <= cols ? w[a * cols + b] ** 2 : w[b * cols + a] ** 2;
        diag += s;
      }
      return diag / small;
    };
    for (const layer of [...L.actor, ...L.critic]) {
      const gain = layer.activated ? Math.SQRT2 : layer.weight.role === 'policy' ? 0.01 : 1;
      expect(gram(layer.weight)).toBeCloseTo(gain * gain, 10);
      expect(Array.from(params.subarray(layer.bias.offset, layer.bias.offset + layer.bias.size)).every((b) => b === 0)).toBe(true);
    }
    expect(Array.from(params.subarray(L.logStd!.offset, L.logStd!.offset + 2 + 1))).toEqual([0, 0, 0]);
  });
});

interface Problem {
  shape: NetShape;
  params: Float64Array;
  obs: Float64Array;
  B: number;
}

function problem(shape: NetShape, seed: number, B = 7): Problem {
  const L = paramLayout(shape);
  const params = initParams(new Float64Array(L.total), shape, 'pytorch', seed);
  // Larger weights than PyTorch's init so that tanh layers are not near-linear; log_std away from 0.
  params.forEach((p, i, a) => (a[i] = 2 * p));
  if (L.logStd) params.set(fill(L.logStd.size, seed + 1, 0.5), L.logStd.offset);
  return { shape, params, obs: fill(B * shape.obsSize, seed + 2, 1.5), B };
}

/** A loss of the network's outputs with fixed weights: Σ c·logits + Σ c'·values (any smooth function would do). */
function surrogate(pr: Problem, params: Float64Array) {
  const cache = actorCriticForward(params, pr.shape, pr.obs, pr.B);
  const cz = fill(cache.logits.length, 901);
  const cv = fill(cache.values.length, 902);
  let loss = 0;
  for (let i = 0; i < cz.length; i++) loss += cz[i] * Math.sin(cache.logits[i]);
  for (let i = 0; i < cv.length; i++) loss += cv[i] * cache.values[i] * cache.values[i];
  const dLogits = cz.map((c, i) => c * Math.cos(cache.logits[i]));
  const dValues = cv.map((c, i) => 2 * c * cache.values[i]);
  return { loss, cache, dLogits, dValues };
}

const h = 1e-6;

function checkEveryElement(pr: Problem, lossAndGrad: (params: Float64Array) => { loss: number; grads: ArrayLike<number> }) {
  const L = paramLayout(pr.shape);
  const { grads } = lossAndGrad(pr.params);
  for (const slot of L.tensors) {
    let nonZero = 0;
    for (let e = 0; e < slot.size; e++) {
      const i = slot.offset + e;
      const plus = pr.params.slice();
      const minus = pr.params.slice();
      plus[i] += h;
      minus[i] -= h;
      const fd = (lossAndGrad(plus).loss - lossAndGrad(minus).loss) / (2 * h);
      expect(Math.abs(fd - grads[i]) / Math.max(Math.abs(grads[i]), 1e-3), `${slot.name}[${e}]: fd ${fd} vs ${grads[i]}`).toBeLessThan(2e-6);
      if (grads[i] !== 0) nonZero++;
    }
    expect(nonZero, `${slot.name} has a gradient`).toBeGreaterThan(0);
  }
}

describe.each([
  ['two layers, tanh, separate', [6, 5], [4, 6], 'tanh', false],
  ['two layers, relu, separate', [6, 5], [7, 3], 'relu', false],
  ['three layers, tanh, shared trunk', [6, 5, 4], [6, 5, 4], 'tanh', true],
  ['three layers, relu, shared trunk', [5, 6, 4], [5, 6, 4], 'relu', true],
  ['three and one layers, tanh, separate', [4, 6, 5], [8], 'tanh', false],
] as const)('actorCriticBackward of a deep network vs finite differences (%s)', (_, actor, critic, activation, shared) => {
  it('every element of every layer', () => {
    const pr = problem(shapeOf([...actor], [...critic], activation, { sharedTrunk: shared, valueOutputs: 1 }), 11 + actor.length);
    checkEveryElement(pr, (params) => {
      const s = surrogate(pr, params);
      return { loss: s.loss, grads: actorCriticBackward(params, pr.shape, pr.obs, s.cache, s.dLogits, s.dValues, pr.B) };
    });
  });
});

describe('the A2C loss with a Gaussian policy (src/cpu/update.ts) vs finite differences, log_std included', () => {
  for (const [name, actor, critic, shared] of [
    ['two layers, separate', [6, 5], [5, 4], false],
    ['two layers, shared trunk', [6, 5], [6, 5], true],
  ] as const) {
    it(name, () => {
      const shape = shapeOf([...actor], [...critic], 'tanh', { policy: 'gaussian', numActions: 2, sharedTrunk: shared });
      const pr = problem(shape, 40);
      const B = pr.B;
      const ro = { ...allocateRollout(1, B, shape.obsSize), obs: Float32Array.from(pr.obs), boxActions: Float32Array.from(fill(B * 2, 41, 1.2)) };
      const targets = { advantages: fill(B, 42), returns: fill(B, 43, 3), weights: Uint8Array.from({ length: B }, (_, i) => (i % 3 === 2 ? 0 : 1)) };
      const config: UpdateConfig = { ...defaultConfig(), normalizeAdvantage: false, entCoef: 0.03, vfCoef: 0.7 };
      checkEveryElement(pr, (params) => {
        const r = lossAndGradients(params, shape, ro, targets, config);
        return { loss: r.loss, grads: r.grads };
      });
    });
  }
});

describe('the categorical loss of a deep network still composes as before', () => {
  it('actorCriticLoss on the deep forward gives a finite loss and gradients for every layer', () => {
    const pr = problem(shapeOf([8, 8], [8, 8], 'relu', { valueOutputs: 3 }), 60);
    const cache = actorCriticForward(pr.params, pr.shape, pr.obs, pr.B);
    const loss = actorCriticLoss({ logits: cache.logits, values: cache.values, actions: Uint32Array.from({ length: pr.B }, (_, i) => i % 3), advantages: fill(pr.B, 61), returns: fill(pr.B, 62), B: pr.B, A: 3, V: 3, vfCoef: 0.5, entCoef: 0.01 });
    const grads = actorCriticBackward(pr.params, pr.shape, pr.obs, cache, loss.dLogits, loss.dValues, pr.B);
    expect(Number.isFinite(loss.loss)).toBe(true);
    for (const layer of paramLayout(pr.shape).actor) expect(Array.from(grads.subarray(layer.weight.offset, layer.weight.offset + layer.weight.size)).some((g) => g !== 0)).toBe(true);
  });
});
