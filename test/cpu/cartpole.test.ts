import { describe, expect, it } from 'vitest';
import { cartpoleStep, CpuCartPoleVecEnv } from '../../src/cpu/cartpole.ts';
import { cartPoleParams } from '../../src/env/cartpole-params.ts';
import { loadGolden } from '../helpers/golden.ts';

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
