import { describe, expect, it } from 'vitest';
import { actorCriticLoss, type LossInputs } from '../../src/cpu/losses.ts';
import { rngUniform } from '../../src/rng.ts';

const fill = (n: number, seed: number, scale = 1) => Float64Array.from({ length: n }, (_, i) => scale * (2 * rngUniform(seed, 0x7e57, i, 0) - 1));
const ln = Math.log;
const H = (p: number[]) => -p.reduce((s, pk) => s + pk * ln(pk), 0);

describe('actorCriticLoss: values worked out by hand', () => {
  // Row 0: logits [0, 0] (p = [1/2, 1/2]), action 0. Row 1: logits [0, ln 3] (p = [1/4, 3/4]), action 1.
  const base: LossInputs = {
    logits: [0, 0, 0, ln(3)],
    values: [0.5, 1],
    actions: [0, 1],
    advantages: [1, -2],
    returns: [1, 0],
    B: 2,
    A: 2,
    V: 1,
    vfCoef: 0.5,
    entCoef: 0.01,
  };

  it('policy, value and entropy terms and the total (entropy subtracted)', () => {
    const r = actorCriticLoss(base);
    const policyLoss = -(1 * ln(0.5) + -2 * ln(0.75)) / 2;
    const valueLoss = ((1 - 0.5) ** 2 + (0 - 1) ** 2) / 2;
    const entropy = (ln(2) + H([0.25, 0.75])) / 2;
    expect(r.policyLoss).toBeCloseTo(policyLoss, 14);
    expect(r.valueLoss).toBeCloseTo(0.625, 15);
    expect(r.valueLoss).toBeCloseTo(valueLoss, 15);
    expect(r.entropy).toBeCloseTo(entropy, 14);
    expect(r.loss).toBeCloseTo(policyLoss + 0.5 * valueLoss - 0.01 * entropy, 14);
  });

  it('gradients: dValues = vfCoef·2(v − ret)/B, dLogits from the closed forms', () => {
    const r = actorCriticLoss(base);
    expect(r.dValues[0]).toBeCloseTo((0.5 * 2 * (0.5 - 1)) / 2, 15);
    expect(r.dValues[1]).toBeCloseTo((0.5 * 2 * (1 - 0)) / 2, 15);
    // Row 0 (uniform, so the entropy gradient is 0): dz = −adv/B·(1[k=a] − p) = −1/2·[1/2, −1/2].
    expect(r.dLogits[0]).toBeCloseTo(-0.25, 15);
    expect(r.dLogits[1]).toBeCloseTo(0.25, 15);
    // Row 1: −adv/B·(1[k=1] − p) − entCoef/B·(−p_k(ln p_k + H)).
    const h1 = H([0.25, 0.75]);
    expect(r.dLogits[2]).toBeCloseTo(1 * (0 - 0.25) + (0.01 / 2) * 0.25 * (ln(0.25) + h1), 14);
    expect(r.dLogits[3]).toBeCloseTo(1 * (1 - 0.75) + (0.01 / 2) * 0.75 * (ln(0.75) + h1), 14);
  });

  it('zero advantages: policy loss and gradient 0, only the entropy term moves the logits', () => {
    const r = actorCriticLoss({ ...base, advantages: [0, 0] });
    expect(r.policyLoss === 0).toBe(true);
    const h1 = H([0.25, 0.75]);
    expect(Math.abs(r.dLogits[0])).toBe(0);
    expect(Math.abs(r.dLogits[1])).toBe(0);
    expect(r.dLogits[2]).toBeCloseTo((0.01 / 2) * 0.25 * (ln(0.25) + h1), 15);
    expect(r.dLogits[3]).toBeCloseTo((0.01 / 2) * 0.75 * (ln(0.75) + h1), 15);
    // A descent step on the logits raises the entropy: the bonus is subtracted from the loss.
    const step = [0, 0, -r.dLogits[2], -r.dLogits[3]].map((d, i) => base.logits[i] + 10 * d);
    expect(actorCriticLoss({ ...base, advantages: [0, 0], logits: step }).entropy).toBeGreaterThan(r.entropy);
    const silent = actorCriticLoss({ ...base, advantages: [0, 0], entCoef: 0 });
    expect(silent.dLogits.every((d) => d === 0)).toBe(true);
  });

  it('Q critic (V = A): the value row is Q(s, a) and only the taken column gets a gradient', () => {
    const r = actorCriticLoss({ ...base, V: 2, values: [0.5, 9, -7, 1] });
    expect(r.valueLoss).toBeCloseTo(0.625, 15);
    expect(Array.from(r.dValues)).toEqual([(0.5 * 2 * (0.5 - 1)) / 2, 0, 0, (0.5 * 2 * (1 - 0)) / 2]);
  });

  it('mask: masked rows are left out of the means and get no gradient', () => {
    const r = actorCriticLoss({ ...base, mask: [0, 1] });
    expect(r.policyLoss).toBeCloseTo(2 * ln(0.75), 14);
    expect(r.valueLoss).toBe(1);
    expect(r.entropy).toBeCloseTo(H([0.25, 0.75]), 14);
    expect(Math.abs(r.dLogits[0])).toBe(0);
    expect(Math.abs(r.dLogits[1])).toBe(0);
    expect(Math.abs(r.dValues[0])).toBe(0);
    expect(r.dValues[1]).toBe(0.5 * 2 * (1 - 0));
  });
});

describe.each([1, 3])('actorCriticLoss vs central finite differences (V = %i)', (V) => {
  it('dLogits and dValues agree to 1e-6 relative', () => {
    const [B, A] = [6, 3];
    const inp: LossInputs = {
      logits: fill(B * A, 21, 2),
      values: fill(B * V, 22, 2),
      actions: [0, 1, 2, 2, 1, 0],
      advantages: fill(B, 23, 3),
      returns: fill(B, 24, 3),
      B,
      A,
      V,
      vfCoef: 0.5,
      entCoef: 0.1,
    };
    const r = actorCriticLoss(inp);
    const h = 1e-6;
    for (const [arr, grad] of [[inp.logits, r.dLogits], [inp.values, r.dValues]] as [Float64Array, Float64Array][]) {
      for (let i = 0; i < arr.length; i++) {
        const keep = arr[i];
        arr[i] = keep + h;
        const up = actorCriticLoss(inp).loss;
        arr[i] = keep - h;
        const down = actorCriticLoss(inp).loss;
        arr[i] = keep;
        expect(Math.abs((up - down) / (2 * h) - grad[i])).toBeLessThanOrEqual(1e-6 * Math.max(1e-2, Math.abs(grad[i])));
      }
    }
  });
});
