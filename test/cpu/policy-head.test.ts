import { describe, expect, it } from 'vitest';
import { policyHeadBackward, policyHeadForward } from '../../src/cpu/policy-head.ts';
import { rngUniform } from '../../src/rng.ts';

const fill = (n: number, seed: number, scale = 1) => Float64Array.from({ length: n }, (_, i) => scale * (2 * rngUniform(seed, 0x7e57, i, 0) - 1));

function forward(logits: ArrayLike<number>, actions: ArrayLike<number>, B: number, A: number) {
  const logProbs = new Float64Array(B * A).fill(Number.NaN);
  const actionLogProb = new Float64Array(B).fill(Number.NaN);
  const entropy = new Float64Array(B).fill(Number.NaN);
  policyHeadForward(logProbs, actionLogProb, entropy, logits, actions, B, A);
  return { logProbs, actionLogProb, entropy };
}

describe('policyHeadForward', () => {
  it('matches softmax probabilities chosen by hand', () => {
    // logits [0, ln 3] → p = [1/4, 3/4]
    const two = forward([0, Math.log(3)], [1], 1, 2);
    expect(two.logProbs[0]).toBeCloseTo(Math.log(0.25), 14);
    expect(two.logProbs[1]).toBeCloseTo(Math.log(0.75), 14);
    expect(two.actionLogProb[0]).toBeCloseTo(Math.log(0.75), 14);
    expect(two.entropy[0]).toBeCloseTo(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 14);

    // Second row: logits ln[1, 2, 3, 4] + 5 → p = [.1, .2, .3, .4] (the +5 checks shift invariance).
    const logits = [0, 0, 0, 0, ...[1, 2, 3, 4].map((k) => Math.log(k) + 5)];
    const four = forward(logits, [1, 2], 2, 4);
    const p = [0.1, 0.2, 0.3, 0.4];
    p.forEach((pk, k) => expect(four.logProbs[4 + k]).toBeCloseTo(Math.log(pk), 14));
    expect(four.actionLogProb[0]).toBeCloseTo(-Math.log(4), 14);
    expect(four.actionLogProb[1]).toBeCloseTo(Math.log(0.3), 14);
    expect(four.entropy[0]).toBeCloseTo(Math.log(4), 14);
    expect(four.entropy[1]).toBeCloseTo(-p.reduce((s, pk) => s + pk * Math.log(pk), 0), 14);
  });

  it('logits ±1000: finite log-probs and entropy', () => {
    const { logProbs, actionLogProb, entropy } = forward([1000, -1000, 0, -1000, 1000, 1000], [1, 0], 2, 3);
    expect(logProbs.every(Number.isFinite)).toBe(true);
    expect(logProbs[0]).toBe(0);
    expect(logProbs[1]).toBe(-2000);
    expect(logProbs[2]).toBe(-1000);
    expect(actionLogProb[0]).toBe(-2000);
    expect(entropy[0]).toBe(0);
    // Row 1: two logits tie at 1000 and the third is 2000 below: p = [0, 1/2, 1/2], H = ln 2.
    expect(actionLogProb[1]).toBe(-2000 - Math.log(2));
    expect(logProbs[4]).toBeCloseTo(-Math.log(2), 15);
    expect(entropy[1]).toBeCloseTo(Math.log(2), 15);
  });

  it('all logits near −1000: the row max is subtracted, not a fixed 0', () => {
    // p = [1, e^−1]/(1 + e^−1); exp(−1000) alone underflows to 0 and would give log(0).
    const { logProbs, entropy } = forward([-1000, -1001], [0], 1, 2);
    const p0 = 1 / (1 + Math.exp(-1));
    expect(logProbs[0]).toBeCloseTo(Math.log(p0), 12);
    expect(logProbs[1]).toBeCloseTo(Math.log(1 - p0), 12);
    expect(entropy[0]).toBeCloseTo(-(p0 * Math.log(p0) + (1 - p0) * Math.log(1 - p0)), 12);
  });

  it('equal logits: p uniform and entropy = log A', () => {
    const A = 5;
    const { logProbs, entropy } = forward(new Float64Array(A).fill(7.25), [3], 1, A);
    for (const lp of logProbs) expect(lp).toBeCloseTo(-Math.log(A), 15);
    expect(entropy[0]).toBeCloseTo(Math.log(A), 15);
  });
});

describe('policyHeadBackward', () => {
  it('matches the closed forms on a hand case', () => {
    // p = [1/4, 3/4], action 0, dLogProb = 2, dEntropy = 0: dz = 2·([1, 0] − p) = [1.5, −1.5].
    const f = forward([0, Math.log(3)], [0], 1, 2);
    const dLogits = new Float64Array(2).fill(Number.NaN);
    policyHeadBackward(dLogits, [2], [0], f.logProbs, f.entropy, [0], 1, 2);
    expect(dLogits[0]).toBeCloseTo(1.5, 14);
    expect(dLogits[1]).toBeCloseTo(-1.5, 14);
    // dEntropy = 1 only: dz_k = −p_k(log p_k + H).
    policyHeadBackward(dLogits, [0], [1], f.logProbs, f.entropy, [0], 1, 2);
    const H = -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75));
    expect(dLogits[0]).toBeCloseTo(-0.25 * (Math.log(0.25) + H), 14);
    expect(dLogits[1]).toBeCloseTo(-0.75 * (Math.log(0.75) + H), 14);
  });

  it('equal logits: the entropy gradient vanishes (maximum)', () => {
    const f = forward([1, 1, 1], [0], 1, 3);
    const dLogits = new Float64Array(3);
    policyHeadBackward(dLogits, [0], [1], f.logProbs, f.entropy, [0], 1, 3);
    for (const d of dLogits) expect(Math.abs(d)).toBeLessThan(1e-16);
  });

  it('logits ±1000: finite gradients, the taken action gets 1 − p', () => {
    const f = forward([1000, -1000, 0], [1], 1, 3);
    const dLogits = new Float64Array(3);
    policyHeadBackward(dLogits, [1], [1], f.logProbs, f.entropy, [1], 1, 3);
    expect(dLogits.every(Number.isFinite)).toBe(true);
    expect(Array.from(dLogits)).toEqual([-1, 1, 0]);
  });

  it('agrees with central finite differences of Σ_b (wL_b·logp_{a_b} + wH_b·H_b)', () => {
    const [B, A] = [4, 5];
    const logits = fill(B * A, 11, 3);
    const actions = [0, 4, 2, 2];
    const wL = fill(B, 12), wH = fill(B, 13);
    const objective = () => {
      const f = forward(logits, actions, B, A);
      let s = 0;
      for (let b = 0; b < B; b++) s += wL[b] * f.actionLogProb[b] + wH[b] * f.entropy[b];
      return s;
    };
    const f = forward(logits, actions, B, A);
    const dLogits = new Float64Array(B * A);
    policyHeadBackward(dLogits, wL, wH, f.logProbs, f.entropy, actions, B, A);
    const h = 1e-6;
    for (let i = 0; i < B * A; i++) {
      const keep = logits[i];
      logits[i] = keep + h;
      const up = objective();
      logits[i] = keep - h;
      const down = objective();
      logits[i] = keep;
      expect(Math.abs((up - down) / (2 * h) - dLogits[i])).toBeLessThanOrEqual(1e-6 * Math.max(1e-2, Math.abs(dLogits[i])));
    }
  });
});
