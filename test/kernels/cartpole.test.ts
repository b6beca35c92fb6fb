import { describe, expect, it } from 'vitest';
import { cartpoleStep, resetComponent } from '../../src/cpu/cartpole.ts';
import { cartPoleParams } from '../../src/env/cartpole-params.ts';
import { CartPoleVecEnv, maxNumEnvs } from '../../src/env/cartpole-vec-env.ts';
import { rngUniform } from '../../src/rng.ts';
import { loadGolden } from '../helpers/golden.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

describe.each([
  ['euler', 'euler'],
  ['semi_implicit_euler', 'semi-implicit-euler'],
] as const)('GPU kernel vs Gymnasium golden transitions (%s)', (file, integrator) => {
  it('matches every row: state to 1e-6 (float32 arithmetic columns), terminated exactly, reward 1', async () => {
    const rows = loadGolden(file);
    const env = CartPoleVecEnv.create(gpu(), { numEnvs: rows.length, params: { integrator } });
    await env.reset(0);
    env.setStates(Float32Array.from(rows.flatMap((r) => r.state)));
    const out = await env.step(rows.map((r) => r.action));
    let worst = 0;
    rows.forEach((row, i) => {
      for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(out.finalObs[i * 4 + k] - row.f32a[k]));
      expect(out.terminated[i], `row ${i}`).toBe(row.terminated ? 1 : 0);
      expect(out.truncated[i]).toBe(0);
      expect(out.rewards[i]).toBe(row.reward);
    });
    expect(worst).toBeLessThanOrEqual(1e-6);
    env.destroy();
  });
});

/** States spread over (and a little beyond) the non-terminal box, from a seeded stream. */
function injectedStates(n: number, seed: number): Float32Array {
  const ranges = [2.6, 3, 0.23, 3.5];
  return Float32Array.from({ length: n * 4 }, (_, j) => (rngUniform(seed, 9, j >> 2, j & 3) * 2 - 1) * ranges[j & 3]);
}

describe('GPU kernel vs CPU reference, one step from the same injected states', () => {
  for (const n of [1, 63, 64, 65, 4097, 65535 * 64 + 1]) {
    it(`N = ${n}`, async () => {
      const ctx = gpu();
      const params = cartPoleParams('CartPole-v1');
      const env = CartPoleVecEnv.create(ctx, { numEnvs: n });
      const seed = 1234 + n;
      await env.reset(seed);
      const states = injectedStates(n, n);
      // A few envs sit one step before the time limit, so truncation and its reset are covered too.
      const elapsed = Uint32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? params.maxEpisodeSteps - 1 : i % 400));
      const episode = Uint32Array.from({ length: n }, (_, i) => i % 5);
      env.setStates(states, { elapsed, episode });
      const actions = Uint32Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 31);
      const out = await env.step(actions);

      const s = new Float32Array(4);
      let worst = 0, flagMismatches = 0, nearThreshold = 0, resetMismatches = 0, dones = 0;
      for (let i = 0; i < n; i++) {
        s.set(states.subarray(i * 4, i * 4 + 4));
        const terminated = cartpoleStep(s, actions[i], params, 'f32');
        for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(out.finalObs[i * 4 + k] - s[k]));
        // sin/cos may differ by an ulp between GPU and CPU: only a state within 1e-6 of a threshold may flip.
        const margin = Math.min(Math.abs(Math.abs(s[0]) - params.xThreshold), Math.abs(Math.abs(s[2]) - params.thetaThresholdRadians));
        if (out.terminated[i] !== (terminated ? 1 : 0)) {
          if (margin < 1e-6) nearThreshold++;
          else flagMismatches++;
        }
        const truncated = elapsed[i] + 1 >= params.maxEpisodeSteps;
        if (out.truncated[i] !== (truncated ? 1 : 0)) flagMismatches++;
        if (out.rewards[i] !== 1) flagMismatches++;
        if (out.terminated[i] || out.truncated[i]) {
          dones++;
          for (let k = 0; k < 4; k++) if (out.obs[i * 4 + k] !== resetComponent(seed, i, episode[i] + 1, k, 'f32')) resetMismatches++;
        } else {
          for (let k = 0; k < 4; k++) if (out.obs[i * 4 + k] !== out.finalObs[i * 4 + k]) resetMismatches++;
        }
      }
      expect(worst).toBeLessThanOrEqual(1e-6);
      expect(flagMismatches).toBe(0);
      expect(nearThreshold).toBeLessThanOrEqual(2);
      expect(resetMismatches).toBe(0);
      if (n > 1000) expect(dones).toBeGreaterThan(n / 10);
      const stats = await env.readStats();
      expect(stats.finished).toBe(dones);
      env.destroy();
    });
  }
});

describe('episode semantics on the GPU', () => {
  for (const id of ['CartPole-v0', 'CartPole-v1'] as const) {
    it(`${id}: truncates at the time limit, keeps the final observation, resets, and counts the episode`, async () => {
      const params = cartPoleParams(id);
      // Balanced by alternating pushes from the rest state, no env terminates before the limit.
      const n = 5;
      const env = CartPoleVecEnv.create(gpu(), { numEnvs: n, env: id, params: { thetaThresholdRadians: 100, xThreshold: 100 } });
      const seed = 99;
      const first = await env.reset(seed);
      for (let i = 0; i < n * 4; i++) expect(first[i]).toBe(resetComponent(seed, i >> 2, 0, i & 3, 'f32'));
      let out;
      for (let t = 1; t <= params.maxEpisodeSteps; t++) {
        out = await env.step(new Array(n).fill(t % 2));
        if (t < params.maxEpisodeSteps) expect(Array.from(out.truncated)).toEqual([0, 0, 0, 0, 0]);
      }
      expect(Array.from(out!.truncated)).toEqual([1, 1, 1, 1, 1]);
      expect(Array.from(out!.terminated)).toEqual([0, 0, 0, 0, 0]);
      for (let i = 0; i < n * 4; i++) {
        expect(out!.obs[i]).toBe(resetComponent(seed, i >> 2, 1, i & 3, 'f32'));
        expect(out!.finalObs[i]).not.toBe(out!.obs[i]);
      }
      const after = await env.getStates();
      expect(Array.from(after.elapsed)).toEqual([0, 0, 0, 0, 0]);
      expect(Array.from(after.episode)).toEqual([1, 1, 1, 1, 1]);
      const stats = await env.readStats();
      expect(stats.finished).toBe(n);
      expect(stats.lengthSum).toBe(n * params.maxEpisodeSteps);
      expect(Array.from(stats.recentReturns)).toEqual(new Array(n).fill(params.maxEpisodeSteps));
      expect((await env.readStats()).finished).toBe(0);
      env.destroy();
    });
  }

  it('terminates with reward 1 on the terminating step; return equals length', async () => {
    const env = CartPoleVecEnv.create(gpu(), { numEnvs: 1 });
    await env.reset(3);
    let steps = 0;
    for (;;) {
      const out = await env.step([1]);
      steps++;
      expect(out.rewards[0]).toBe(1);
      if (out.terminated[0]) break;
      expect(steps).toBeLessThan(100);
    }
    const stats = await env.readStats();
    expect(stats.finished).toBe(1);
    expect(stats.recentReturns[0]).toBe(steps);
    expect(stats.lengthSum).toBe(steps);
  });

  it('random-policy rollouts in one dispatch agree with the step-by-step kernel on episode counts', async () => {
    const env = CartPoleVecEnv.create(gpu(), { numEnvs: 4096 });
    await env.reset(5);
    env.randomRollout(200);
    const stats = await env.readStats();
    // A uniform random policy lasts ~22 steps on CartPole: about 200/22 episodes per env.
    expect(stats.finished / 4096).toBeGreaterThan(7);
    expect(stats.finished / 4096).toBeLessThan(11);
    const meanReturn = stats.recentReturns.reduce((a, b) => a + b, 0) / stats.recentReturns.length;
    expect(meanReturn).toBeGreaterThan(15);
    expect(meanReturn).toBeLessThan(30);
  });

  it('refuses an N beyond the adapter limits with one line naming the limit and the largest N', () => {
    const ctx = gpu();
    const max = maxNumEnvs(ctx.device);
    expect(() => CartPoleVecEnv.create(ctx, { numEnvs: max + 1 })).toThrow(
      new RegExp(`maxStorageBufferBindingSize.*largest numEnvs that fits is ${max}$`),
    );
    expect(() => CartPoleVecEnv.create(ctx, { numEnvs: 0 })).toThrow(/positive integer/);
  });
});
