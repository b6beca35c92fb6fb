import { describe, expect, it } from 'vitest';
import { computeAdvantages, monteCarloReturns, normalizeAdvantages, type Rollout } from '../../src/cpu/returns.ts';

const close = (actual: ArrayLike<number>, expected: number[]) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i], `element ${i}`).toBeCloseTo(e, 12));
};

// bootstrapValues hold 1000 wherever a step is not truncated, and lastValues 1000 where the last step
// ended an episode: a wrong read shows up as a huge error.
const X = 1000;

describe('computeAdvantages (GAE) on hand-worked rollouts, γ = 0.5', () => {
  // T = 4, N = 1, termination at t = 1.
  const terminatedInside: Rollout = {
    T: 4, N: 1,
    rewards: [1, 1, 1, 1],
    terminated: [0, 1, 0, 0],
    truncated: [0, 0, 0, 0],
    values: [2, 4, 6, 8],
    bootstrapValues: [X, X, X, X],
    lastValues: [10],
  };
  // deltas: t3: 1 + .5·10 − 8 = −2;  t2: 1 + .5·8 − 6 = −1;  t1 (terminated): 1 + 0 − 4 = −3;  t0: 1 + .5·4 − 2 = 1

  it('λ = 0: the one-step TD errors (TD actor-critic)', () => {
    const { advantages, returns } = computeAdvantages(terminatedInside, 0.5, 0);
    close(advantages, [1, -3, -1, -2]);
    close(returns, [3, 1, 5, 6]);
  });

  it('λ = 1: n-step returns cut at the termination, bootstrapped at the rollout end', () => {
    const { advantages, returns } = computeAdvantages(terminatedInside, 0.5, 1);
    // A3 = −2; A2 = −1 + .5·(−2) = −2; A1 = −3 (no carry over the termination); A0 = 1 + .5·(−3) = −0.5
    close(advantages, [-0.5, -3, -2, -2]);
    // R0 = r0 + γ·r1 = 1.5;  R2 = r2 + γ·r3 + γ²·V(s4) = 1 + .5 + 2.5 = 4
    close(returns, [1.5, 1, 4, 6]);
  });

  it('λ = 0.95', () => {
    const { advantages, returns } = computeAdvantages(terminatedInside, 0.5, 0.95);
    // A3 = −2; A2 = −1 + .475·(−2) = −1.95; A1 = −3; A0 = 1 + .475·(−3) = −0.425
    close(advantages, [-0.425, -3, -1.95, -2]);
    close(returns, [1.575, 1, 4.05, 6]);
  });

  it('truncation inside: bootstrap from V(final obs), no carry into the next episode', () => {
    const ro: Rollout = { ...terminatedInside, terminated: [0, 0, 0, 0], truncated: [0, 1, 0, 0], bootstrapValues: [X, 20, X, X] };
    const { advantages, returns } = computeAdvantages(ro, 0.5, 1);
    // t1: 1 + .5·20 − 4 = 7;  t0: 1 + .5·4 − 2 + .5·7 = 4.5  (R0 = 1 + .5·1 + .25·20 = 6.5)
    close(advantages, [4.5, 7, -2, -2]);
    close(returns, [6.5, 11, 4, 6]);
  });

  it('termination (env 0) and truncation (env 1) at the last step never read lastValues', () => {
    const ro: Rollout = {
      T: 2, N: 2,
      rewards: [1, 2, 1, 2], // rows t*N + n
      terminated: [0, 0, 1, 0],
      truncated: [0, 0, 0, 1],
      values: [3, 4, 5, 6],
      bootstrapValues: [X, X, X, 8],
      lastValues: [X, X],
    };
    const { advantages, returns } = computeAdvantages(ro, 0.5, 1);
    // env 0: t1: 1 − 5 = −4;  t0: 1 + .5·5 − 3 = 0.5, A0 = 0.5 + .5·(−4) = −1.5 (R0 = 1 + .5·1 = 1.5)
    // env 1: t1: 2 + .5·8 − 6 = 0;  t0: 2 + .5·6 − 4 = 1, A0 = 1 (R0 = 2 + .5·2 + .25·8 = 5)
    close(advantages, [-1.5, 1, -4, 0]);
    close(returns, [1.5, 5, 1, 6]);
  });

  it('both flags on one step: termination wins (no bootstrap)', () => {
    const ro: Rollout = { T: 1, N: 1, rewards: [1], terminated: [1], truncated: [1], values: [3], bootstrapValues: [X], lastValues: [X] };
    close(computeAdvantages(ro, 0.5, 1).advantages, [-2]);
  });

  describe('termination and truncation in one rollout (T = 5)', () => {
    const ro: Rollout = {
      T: 5, N: 1,
      rewards: [1, 1, 1, 1, 1],
      terminated: [0, 1, 0, 0, 0],
      truncated: [0, 0, 0, 1, 0],
      values: [2, 2, 2, 2, 2],
      bootstrapValues: [X, X, X, 4, X],
      lastValues: [6],
    };
    // deltas: t4: 1 + 3 − 2 = 2;  t3 (truncated): 1 + .5·4 − 2 = 1;  t2: 1 + 1 − 2 = 0;  t1 (terminated): −1;  t0: 0

    it('λ = 0', () => close(computeAdvantages(ro, 0.5, 0).advantages, [0, -1, 0, 1, 2]));

    it('λ = 1', () => {
      const { advantages, returns } = computeAdvantages(ro, 0.5, 1);
      // A2 = 0 + .5·1 = 0.5;  A0 = 0 + .5·(−1) = −0.5
      close(advantages, [-0.5, -1, 0.5, 1, 2]);
      close(returns, [1.5, 1, 2.5, 3, 4]);
    });

    it('Monte-Carlo returns: the unfinished last episode is masked out', () => {
      const { returns, advantages, mask } = monteCarloReturns(ro, 0.5);
      // t3 truncated: G = 1 + .5·4 = 3;  t2: 1 + .5·3 = 2.5;  t1 terminated: G = 1;  t0: 1 + .5·1 = 1.5;  t4: no return
      expect(Array.from(mask)).toEqual([1, 1, 1, 1, 0]);
      close(returns, [1.5, 1, 2.5, 3, 0]);
      close(advantages, [-0.5, -1, 0.5, 1, 0]);
    });
  });
});

describe('monteCarloReturns', () => {
  it('sums to the termination; an env that never ends has mask 0 everywhere', () => {
    const ro: Rollout = {
      T: 3, N: 2,
      rewards: [1, 5, 1, 5, 1, 5],
      terminated: [0, 0, 0, 0, 1, 0],
      truncated: [0, 0, 0, 0, 0, 0],
      values: [1, 1, 1, 1, 1, 1],
      bootstrapValues: [X, X, X, X, X, X],
      lastValues: [X, X],
    };
    const { returns, advantages, mask } = monteCarloReturns(ro, 0.5);
    // env 0: G2 = 1, G1 = 1 + .5 = 1.5, G0 = 1 + .75 = 1.75
    expect(Array.from(mask)).toEqual([1, 0, 1, 0, 1, 0]);
    close(returns, [1.75, 0, 1.5, 0, 1, 0]);
    close(advantages, [0.75, 0, 0.5, 0, 0, 0]);
  });
});

describe('normalizeAdvantages', () => {
  it('uses the unbiased (n − 1) std, as torch .std() in CleanRL/SB3', () => {
    const adv = Float64Array.from([1, 2, 3, 4]);
    const { mean, std } = normalizeAdvantages(adv);
    // mean 2.5; Σ(a − mean)² = 5; unbiased variance 5/3 (the population one would be 5/4)
    expect(mean).toBe(2.5);
    expect(std).toBeCloseTo(Math.sqrt(5 / 3), 15);
    close(adv, [-1.5, -0.5, 0.5, 1.5].map((d) => d / (Math.sqrt(5 / 3) + 1e-8)));
  });

  it('with a mask: statistics over masked-in entries, masked-out entries set to 0', () => {
    const adv = Float64Array.from([1, 2, 100, 3]);
    const { mean, std } = normalizeAdvantages(adv, [1, 1, 0, 1]);
    expect(mean).toBe(2);
    expect(std).toBe(1);
    close(adv, [-1 / (1 + 1e-8), 0, 0, 1 / (1 + 1e-8)]);
  });

  it('a single entry normalizes to 0 instead of NaN', () => {
    const adv = Float64Array.from([5]);
    normalizeAdvantages(adv);
    expect(adv[0]).toBe(0);
  });
});
