/**
 * CartPole, one stem: shaders/envs/cartpole.wgsl ↔ src/envs/cartpole.ts (descriptor and CPU reference).
 * The CPU reference against Gymnasium's golden transitions, then the GPU kernel against both.
 */
import { describe, expect, it } from 'vitest';
import { cartPoleParams, cartPoleSpec, cartpoleStep, resetComponent } from '../../src/envs/cartpole.ts';
import { CpuCartPoleVecEnv } from '../../src/envs/cpu-vec-env.ts';
import { CartPoleVecEnv, maxNumEnvs } from '../../src/envs/vec-env.ts';
import { rngUniform } from '../../src/rng.ts';
import { loadGolden } from '../helpers/golden.ts';
import { gpuVersusCpu } from '../helpers/env-parity.ts';
import { useGpu } from '../helpers/gpu.ts';


const integrators = [
  ['euler', 'euler'],
  ['semi_implicit_euler', 'semi-implicit-euler'],
] as const;

describe.each(integrators)('CPU reference vs Gymnasium golden transitions (%s)', (file, integrator) => {
  const rows = loadGolden(file);
  const params = cartPoleParams('CartPole-v1', { integrator });

  it('has all 20 000 rows', () => expect(rows.length).toBe(20000));

  it('f64 mode matches the float64 columns to 1e-12 and every flag', () => {
    let worst = 0;
    for (const row of rows) {
      const s = Float64Array.from(row.state);
      const terminated = cartpoleStep(s, row.action, params, 'f64');
      expect(terminated).toBe(row.terminated);
      for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(s[k] - row.f64[k]));
    }
    expect(worst).toBeLessThanOrEqual(1e-12);
  });

  it('f32 mode matches the float32-arithmetic columns to 5e-7 and every flag', () => {
    let worst = 0;
    for (const row of rows) {
      const s = Float32Array.from(row.state);
      const terminated = cartpoleStep(s, row.action, params, 'f32');
      expect(terminated).toBe(row.terminatedF32a);
      for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(s[k] - row.f32a[k]));
    }
    expect(worst).toBeLessThanOrEqual(5e-7);
  });

  it('pays reward 1 on every golden step', () => {
    for (const row of rows) expect(row.reward).toBe(1);
  });
});

describe('CPU vector env semantics', () => {
  it('truncates at 200 (v0) and 500 (v1) with the final observation kept and a fresh reset', () => {
    for (const id of ['CartPole-v0', 'CartPole-v1'] as const) {
      const params = cartPoleParams(id, { thetaThresholdRadians: 1e9, xThreshold: 1e9 });
      const env = new CpuCartPoleVecEnv(3, params, 'f32');
      env.reset(7);
      for (let t = 1; t <= params.maxEpisodeSteps; t++) {
        const r = env.step([0, 1, t % 2]);
        const last = t === params.maxEpisodeSteps;
        expect(Array.from(r.truncated)).toEqual(last ? [1, 1, 1] : [0, 0, 0]);
        expect(Array.from(r.terminated)).toEqual([0, 0, 0]);
        if (last) {
          expect(Array.from(r.finalObs)).not.toEqual(Array.from(r.obs));
          expect(Array.from(env.episode)).toEqual([1, 1, 1]);
          for (const v of r.obs) expect(Math.abs(v)).toBeLessThan(0.05);
        }
      }
      expect(env.finishedLengths).toEqual([params.maxEpisodeSteps, params.maxEpisodeSteps, params.maxEpisodeSteps]);
    }
  });

  it('terminates with reward 1 on the last step and returns equal lengths', () => {
    const env = new CpuCartPoleVecEnv(1, cartPoleParams('CartPole-v1'), 'f64');
    env.reset(1);
    let steps = 0;
    for (;;) {
      const r = env.step([1]);
      steps++;
      expect(r.rewards[0]).toBe(1);
      if (r.terminated[0]) {
        expect(Math.abs(r.finalObs[2]) > 0.2094 || Math.abs(r.finalObs[0]) > 2.4).toBe(true);
        break;
      }
    }
    expect(env.finishedReturns).toEqual([steps]);
    expect(env.finishedLengths).toEqual([steps]);
  });
});

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

describe('the shared parity helper (test/helpers/env-parity.ts) on CartPole', () => {
  it('finds no difference beyond 1e-6 at N = 65', async () => {
    const n = 65;
    const spec = cartPoleSpec('CartPole-v1');
    const report = await gpuVersusCpu(gpu(), spec, {
      numEnvs: n,
      seed: 3,
      states: injectedStates(n, 11),
      actions: Uint32Array.from({ length: n }, (_, i) => i & 1),
      elapsed: Uint32Array.from({ length: n }, (_, i) => (i % 9 === 0 ? spec.maxEpisodeSteps - 1 : i)),
      episode: Uint32Array.from({ length: n }, (_, i) => i % 3),
    });
    expect(report.stateError).toBeLessThanOrEqual(1e-6);
    expect(report.obsError).toBeLessThanOrEqual(1e-6);
    expect(report.rewardError).toBe(0);
    expect(report.otherMismatches).toEqual([]);
    expect(report.terminatedMismatches).toEqual([]);
    expect(report.dones).toBeGreaterThan(5);
  });
});
