/**
 * Pendulum-v1, one stem: shaders/envs/pendulum.wgsl ↔ src/envs/pendulum.ts (descriptor and CPU reference).
 * The CPU reference against Gymnasium 1.4's golden single steps, then the GPU kernel against both.
 *
 * Measured on lavapipe (Mesa 25, 2 cores), and once on an NVIDIA H200 (Dawn/Vulkan, driver 580) in [brackets];
 * errors are |a − b| / max(1, |b|) unless said otherwise:
 *   CPU 'f64' vs golden (4,000 rows): state 1.2e-15, reward 4.8e-14 (one row: NumPy's float32 u**2 is powf,
 *     which rounds an exact tie away from even), observation bit-identical; tested at 1e-12 / exact.
 *   CPU 'f32' vs golden: 4.7e-7; tested at 2e-6.
 *   GPU vs CPU 'f64' stepped from the same f32-rounded state and f32 action: state 1.3e-7 [2.5e-7], reward
 *     2.1e-7 [1.9e-7], tested at 5e-7; observation 5.7e-7 [8.2e-7], tested at 1.5e-6: cos/sin of the new θ,
 *     which the GPU rounds to f32 (by up to 4.8e-7 at |θ| ≈ 9.4) and the reference keeps in f64.
 *   GPU vs CPU 'f32' (same roundings in the same order): 2.4e-7 [6.9e-7], 9% [44%] of the values not
 *     bit-identical: sin/cos differ by an ulp or more, and fused multiply-adds; tested at 1e-6.
 *   GPU vs Gymnasium's own numbers (its state is not f32): state 3.5e-7 [3.3e-7], observation 9.5e-7
 *     [9.7e-7] (cos/sin of a θ ≈ 9.4 whose f32 ulp is 9.5e-7), reward 4.7e-7 [4.7e-7]; tested at 2e-6.
 *   GPU vs CPU 'f64' at N = 1 … 4,194,241 (θ in [−3π, 3π] with ±π, θ̇ with ±8, actions in [−4, 4] with ±2):
 *     state (absolute) 4.9e-7 [5.0e-7], observation 6.1e-7 [9.4e-7], reward 2.6e-7 [2.2e-7]; tested at
 *     1e-6 / 1.5e-6 / 5e-7.
 *   Reset: GPU and CPU 'f32' states bit for bit [also], each component being one f32 product; the reset
 *     observation 6e-8 [4.0e-7] from the CPU 'f32' one, tested at 1e-6.
 *   angle_normalize: the kernel's (seen through a reward with θ̇ = u = 0) and the CPU 'f32' one bit for bit
 *     [also], for |θ| up to 25,000.
 *   Rewards over a 200-step episode vs CPU 'f32' from the GPU's own states: 1.4e-7 [1.2e-7]; tested at 5e-7.
 *   Random policy: mean return −1224 and −1206 over the ring's 256 episodes [−1285]; 64 envs with the same
 *     draws on the CPU 'f32' reference: −1237.391 against the GPU's −1237.391 [−1237.390].
 */
import { describe, expect, it } from 'vitest';
import {
  angleNormalize, angleNormalizeF32, PI_F32, pendulumObserve, pendulumParams, pendulumSpec, pendulumStep, resetComponent, TWO_PI_DOWN_F32,
} from '../../src/envs/pendulum.ts';
import { envSpec } from '../../src/envs/registry.ts';
import { makeVecEnv } from '../../src/envs/vec-env.ts';
import { RNG_STREAM_RANDOM_POLICY, rngUniform } from '../../src/rng.ts';
import { gpuVersusCpu } from '../helpers/env-parity.ts';
import { loadClassicControl } from '../helpers/golden.ts';
import { useGpu } from '../helpers/gpu.ts';

const p = pendulumParams();
const f = Math.fround;

const rows = loadClassicControl('Pendulum-v1');
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));

describe('CPU reference vs Gymnasium golden steps', () => {
  it('has all 4,000 rows: unwrapped θ beyond ±π, actions beyond ±2, none terminal', () => {
    expect(rows.length).toBe(4000);
    expect(rows.some((r) => Math.abs(r.state[0]) > Math.PI)).toBe(true);
    expect(rows.some((r) => Math.abs(r.action) > p.maxTorque)).toBe(true);
    expect(rows.every((r) => !r.terminated)).toBe(true);
    // Gymnasium hands the action over as a float32 array: every golden action is an f32.
    expect(rows.every((r) => f(r.action) === r.action)).toBe(true);
  });

  it("'f64' reproduces next state, reward and terminated of every row to 1e-12, the observation exactly", () => {
    let worstState = 0, worstReward = 0, obsMismatches = 0;
    const s = new Float64Array(2);
    const o = new Float64Array(3);
    const out = { reward: 0, terminated: true };
    const cpu = pendulumSpec().cpu!;
    for (const row of rows) {
      s.set(row.state);
      cpu.step(s, [row.action], 'f64', out);
      expect(out.terminated).toBe(false);
      for (let k = 0; k < 2; k++) worstState = Math.max(worstState, Math.abs(s[k] - row.next[k]) / Math.abs(row.next[k] || 1));
      worstReward = Math.max(worstReward, Math.abs(out.reward - row.reward) / Math.abs(row.reward));
      cpu.observe(s, o, 'f64');
      for (let k = 0; k < 3; k++) if (o[k] !== row.obs[k]) obsMismatches++;
    }
    console.info(`Pendulum CPU f64 vs golden (relative): state ${worstState.toExponential(2)}, reward ${worstReward.toExponential(2)}, observation mismatches ${obsMismatches}`);
    expect(worstState).toBeLessThanOrEqual(1e-12);
    expect(worstReward).toBeLessThanOrEqual(1e-12);
    expect(obsMismatches).toBe(0);
  });

  it("NumPy's float32 action arithmetic matters: with 3·u and 0.001·u² in float64 the golden rows are missed by ~1e-6", () => {
    let worstNext = 0, worstReward = 0;
    for (const row of rows) {
      const [th, thdot] = row.state;
      const u = Math.min(Math.max(row.action, -2), 2);
      const newthdot = Math.min(Math.max(thdot + (15 * Math.sin(th) + 3 * u) * 0.05, -8), 8);
      const cost = angleNormalize(th) ** 2 + 0.1 * thdot ** 2 + 0.001 * u ** 2;
      worstNext = Math.max(worstNext, Math.abs(newthdot - row.next[1]) / Math.abs(row.next[1]));
      worstReward = Math.max(worstReward, Math.abs(-cost - row.reward) / Math.abs(row.reward));
    }
    expect(worstNext).toBeGreaterThan(1e-7);
    expect(worstReward).toBeGreaterThan(1e-9);
  });

  it("'f32' stays within f32 rounding of the golden rows", () => {
    let worst = 0;
    const s = new Float32Array(2);
    for (const row of rows) {
      s.set(row.state);
      const reward = pendulumStep(s, row.action, p, 'f32');
      for (let k = 0; k < 2; k++) worst = Math.max(worst, rel(s[k], row.next[k]));
      worst = Math.max(worst, rel(reward, row.reward));
    }
    console.info(`Pendulum CPU f32 vs golden: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(2e-6);
  });

  it("angle_normalize has Python's floor-mod semantics: [−π, π), both ±π map to −π", () => {
    expect(angleNormalize(Math.PI)).toBe(-Math.PI);
    expect(angleNormalize(-Math.PI)).toBe(-Math.PI);
    expect(angleNormalize(0)).toBe(0);
    expect(angleNormalize(1)).toBeCloseTo(1, 15);
    expect(angleNormalize(-1 - 4 * Math.PI)).toBeCloseTo(-1, 14);
    // f32: π_f32 lies just above π, so it wraps to just above −π; its predecessor stays below π.
    expect(angleNormalizeF32(PI_F32)).toBe(f(PI_F32 - 2 * Math.PI));
    expect(angleNormalizeF32(-PI_F32)).toBe(f(2 * Math.PI - PI_F32));
    const below = f(PI_F32 - 2 ** -22);
    expect(angleNormalizeF32(below)).toBe(below);
  });

  it("'f32' angle_normalize is the f64 one of the same f32 θ to an ulp, up to |θ| = 25,000", () => {
    let worst = 0, signFlips = 0;
    for (let i = 0; i < 50_000; i++) {
      const scale = [4, 40, 400, 25_000][i & 3];
      const x = f((rngUniform(21, 0, i, 0) * 2 - 1) * scale);
      const a32 = angleNormalizeF32(x);
      // The exact reduction of the f32 x, to f64 precision (Gymnasium's x + π would round at 1e-16·|x|).
      const a64 = angleNormalize(x);
      expect(a32 >= -PI_F32 && a32 <= PI_F32).toBe(true);
      // Only within an ulp of ±π may the sign differ (the cost squares it); elsewhere it must agree.
      if (Math.abs(a64) > 1e-6 && Math.abs(a64) < Math.PI - 1e-6 && Math.sign(a32) !== Math.sign(a64)) signFlips++;
      worst = Math.max(worst, Math.abs(Math.abs(a32) - Math.abs(a64)));
    }
    expect(worst).toBeLessThanOrEqual(2.4e-7);
    expect(signFlips).toBe(0);
  });

  it('reset draws stay inside [−π, π) and [−1, 1) even at u = 0 and u = 1 − 2^-24', () => {
    expect(f(-0.5 * TWO_PI_DOWN_F32)).toBeGreaterThanOrEqual(-Math.PI);
    expect(f((0.5 - 2 ** -24) * TWO_PI_DOWN_F32)).toBeLessThan(Math.PI);
    expect(f(-0.5 * f(2 * Math.PI))).toBeLessThan(-Math.PI);
  });
});

const gpu = useGpu();

describe('GPU kernel vs Gymnasium golden steps', () => {
  it('matches every row: against the CPU reference from the same f32 state, and against Gymnasium itself', async () => {
    const n = rows.length;
    const env = makeVecEnv(gpu(), { env: 'Pendulum-v1', numEnvs: n });
    await env.reset(0);
    const states = Float32Array.from(rows.flatMap((r) => r.state));
    const actions = Float32Array.from(rows.map((r) => r.action));
    env.setStates(states);
    const out = await env.step(actions);
    const after = await env.getStates();
    env.destroy();
    let refState = 0, refObs = 0, refReward = 0, gymState = 0, gymObs = 0, gymReward = 0, f32Error = 0, f32Differ = 0;
    const s = new Float64Array(2);
    const o = new Float64Array(3);
    const s32 = new Float32Array(2);
    const o32 = new Float32Array(3);
    for (const [i, row] of rows.entries()) {
      s32.set(states.subarray(2 * i, 2 * i + 2));
      const reward32 = pendulumStep(s32, actions[i], p, 'f32');
      pendulumObserve(s32, o32, 'f32');
      const gpu32 = [after.states[2 * i], after.states[2 * i + 1], out.rewards[i], ...out.finalObs.subarray(3 * i, 3 * i + 3)];
      [s32[0], s32[1], reward32, ...o32].forEach((v, k) => {
        f32Error = Math.max(f32Error, rel(gpu32[k], v));
        if (gpu32[k] !== v) f32Differ++;
      });
      s.set(states.subarray(2 * i, 2 * i + 2));
      const reward = pendulumStep(s, actions[i], p, 'f64');
      pendulumObserve(s, o, 'f64');
      expect(out.terminated[i]).toBe(0);
      expect(out.truncated[i]).toBe(0);
      for (let k = 0; k < 2; k++) {
        refState = Math.max(refState, rel(after.states[2 * i + k], s[k]));
        gymState = Math.max(gymState, rel(after.states[2 * i + k], row.next[k]));
      }
      for (let k = 0; k < 3; k++) {
        refObs = Math.max(refObs, rel(out.finalObs[3 * i + k], o[k]));
        gymObs = Math.max(gymObs, rel(out.finalObs[3 * i + k], row.obs[k]));
      }
      refReward = Math.max(refReward, rel(out.rewards[i], reward));
      gymReward = Math.max(gymReward, rel(out.rewards[i], row.reward));
    }
    const e = (v: number) => v.toExponential(2);
    console.info(`Pendulum GPU vs CPU f64 (same f32 inputs): state ${e(refState)}, obs ${e(refObs)}, reward ${e(refReward)}; vs Gymnasium: state ${e(gymState)}, obs ${e(gymObs)}, reward ${e(gymReward)}; vs CPU f32: ${e(f32Error)}, ${f32Differ} of ${6 * n} values not bit-identical`);
    // The 'f32' reference mirrors the kernel's roundings; only sin/cos (and contractions into fma) differ by an ulp.
    expect(f32Error).toBeLessThanOrEqual(1e-6);
    expect(Math.max(refState, refReward)).toBeLessThanOrEqual(5e-7);
    // cos/sin of the new θ, which the GPU holds in f32 (rounded by up to 4.8e-7 at |θ| ≈ 9.4) and the reference in f64.
    expect(refObs).toBeLessThanOrEqual(1.5e-6);
    expect(Math.max(gymState, gymObs, gymReward)).toBeLessThanOrEqual(2e-6);
  });

  it("angle_normalize on the GPU equals the CPU 'f32' one bit for bit (reward −θ² at θ̇ = u = 0)", async () => {
    const special = [Math.PI, -Math.PI, 3 * Math.PI, -3 * Math.PI, 2 * Math.PI, -2 * Math.PI, 0, f(PI_F32 - 2 ** -22), 1e4, -2.5e4];
    const n = 8192;
    const theta = Float32Array.from({ length: n }, (_, i) => (i < special.length ? special[i] : (rngUniform(5, 9, i, 0) * 2 - 1) * [4, 40, 400, 25_000][i & 3]));
    const env = makeVecEnv(gpu(), { env: 'Pendulum-v1', numEnvs: n });
    await env.reset(0);
    env.setStates(Float32Array.from({ length: 2 * n }, (_, j) => (j & 1 ? 0 : theta[j >> 1])));
    const out = await env.step(new Float32Array(n));
    env.destroy();
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const a = angleNormalizeF32(theta[i]);
      if (out.rewards[i] !== -f(a * a)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});

/** θ over [−3π, 3π] (±π, ±2π, ±3π and 0 first), θ̇ over [−8, 8] (±8 often), torques over [−4, 4] (±2 often). */
function injectedCase(n: number, seed: number): { states: Float32Array; actions: Float32Array } {
  const thetas = [Math.PI, -Math.PI, 3 * Math.PI, -3 * Math.PI, 2 * Math.PI, -2 * Math.PI, 0, f(PI_F32 - 2 ** -22)];
  const states = new Float32Array(2 * n);
  const actions = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = (lane: number) => rngUniform(seed, 9, i, lane) * 2 - 1;
    states[2 * i] = i < thetas.length ? thetas[i] : i % 17 === 5 ? thetas[i % thetas.length] : u(0) * 3 * Math.PI;
    states[2 * i + 1] = i % 11 === 0 ? 8 : i % 11 === 1 ? -8 : u(1) * 8;
    actions[i] = i % 13 === 0 ? 2 : i % 13 === 1 ? -2 : u(2) * 4;
  }
  return { states, actions };
}

const counters = (n: number) => ({
  // A few envs sit one step before the time limit: truncation and its same-step reset are covered too.
  elapsed: Uint32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? p.maxEpisodeSteps - 1 : i % 190)),
  episode: Uint32Array.from({ length: n }, (_, i) => i % 5),
});

describe('GPU kernel vs CPU reference, one step from the same injected states', () => {
  for (const n of [1, 63, 64, 65, 4097]) {
    it(`N = ${n}`, async () => {
      const { states, actions } = injectedCase(n, n);
      const report = await gpuVersusCpu(gpu(), pendulumSpec(), { numEnvs: n, seed: 77 + n, states, actions, ...counters(n) });
      expect(report.stateError).toBeLessThanOrEqual(1e-6);
      expect(report.obsError).toBeLessThanOrEqual(1.5e-6);
      expect(report.rewardError).toBeLessThanOrEqual(5e-7);
      expect(report.terminatedMismatches).toEqual([]);
      expect(report.otherMismatches).toEqual([]);
      if (n > 1000) expect(report.dones).toBeGreaterThan(n / 8);
    });
  }

  it('non-default constants (g = 9.81, m = 1.3, l = 0.8, dt = 0.02) reach the kernel', async () => {
    const n = 257;
    const spec = pendulumSpec({ g: 9.81, m: 1.3, l: 0.8, dt: 0.02 });
    const { states, actions } = injectedCase(n, 3);
    const report = await gpuVersusCpu(gpu(), spec, { numEnvs: n, seed: 1, states, actions, ...counters(n) });
    expect(report.stateError).toBeLessThanOrEqual(1e-6);
    expect(report.obsError).toBeLessThanOrEqual(1.5e-6);
    expect(report.rewardError).toBeLessThanOrEqual(5e-7);
    expect(report.otherMismatches).toEqual([]);
    // And they are not the defaults: the default reference differs.
    const s = Float64Array.from([1, 0]);
    const t = Float64Array.from([1, 0]);
    pendulumStep(s, 0, spec.params, 'f64');
    pendulumStep(t, 0, p, 'f64');
    expect(Math.abs(s[1] - t[1])).toBeGreaterThan(1e-3);
  });

  it('N = 65535 × 64 + 1 (the 2-D fold): every env, resets bit for bit', async () => {
    // gpuVersusCpu copies the whole Box action array once per row (Array.from in its loop): quadratic at
    // this size, so this case compares here, with the same metric.
    const n = 65535 * 64 + 1;
    const seed = 4242;
    const { states, actions } = injectedCase(n, 7);
    const { elapsed, episode } = counters(n);
    const env = makeVecEnv(gpu(), { env: 'Pendulum-v1', numEnvs: n });
    await env.reset(seed);
    env.setStates(states, { elapsed, episode });
    const out = await env.step(actions);
    const after = await env.getStates();
    const stats = await env.readStats();
    env.destroy();
    const s = new Float64Array(2);
    const o = new Float64Array(3);
    let stateError = 0, obsError = 0, rewardError = 0, flagMismatches = 0, resetMismatches = 0, dones = 0;
    for (let i = 0; i < n; i++) {
      s.set(states.subarray(2 * i, 2 * i + 2));
      const reward = pendulumStep(s, actions[i], p, 'f64');
      pendulumObserve(s, o, 'f64');
      rewardError = Math.max(rewardError, rel(out.rewards[i], reward));
      for (let k = 0; k < 3; k++) obsError = Math.max(obsError, rel(out.finalObs[3 * i + k], o[k]));
      const truncated = elapsed[i] + 1 >= p.maxEpisodeSteps;
      if (out.terminated[i] !== 0 || out.truncated[i] !== (truncated ? 1 : 0)) flagMismatches++;
      if (truncated) {
        dones++;
        for (let k = 0; k < 2; k++) if (after.states[2 * i + k] !== resetComponent(seed, i, episode[i] + 1, k, 'f32')) resetMismatches++;
        if (after.elapsed[i] !== 0 || after.episode[i] !== episode[i] + 1) resetMismatches++;
      } else {
        for (let k = 0; k < 2; k++) stateError = Math.max(stateError, Math.abs(after.states[2 * i + k] - s[k]));
        for (let k = 0; k < 3; k++) if (out.obs[3 * i + k] !== out.finalObs[3 * i + k]) resetMismatches++;
      }
    }
    console.info(`Pendulum GPU vs CPU f64 at N = ${n}: state ${stateError.toExponential(2)} (absolute), obs ${obsError.toExponential(2)}, reward ${rewardError.toExponential(2)}`);
    expect(stateError).toBeLessThanOrEqual(1e-6);
    expect(obsError).toBeLessThanOrEqual(1.5e-6);
    expect(rewardError).toBeLessThanOrEqual(5e-7);
    expect(flagMismatches).toBe(0);
    expect(resetMismatches).toBe(0);
    expect(stats.finished).toBe(dones);
  });
});

describe('reset on the GPU', () => {
  it("equals the CPU 'f32' reset bit for bit; θ in [−π, π), θ̇ in [−1, 1)", async () => {
    const n = 1 << 17;
    const seed = 31337;
    const env = makeVecEnv(gpu(), { env: 'Pendulum-v1', numEnvs: n });
    const obs = await env.reset(seed);
    const { states } = await env.getStates();
    env.destroy();
    let mismatches = 0, obsError = 0;
    let [minTheta, maxTheta, minDot, maxDot, sumTheta] = [Infinity, -Infinity, Infinity, -Infinity, 0];
    const o = new Float32Array(3);
    for (let i = 0; i < n; i++) {
      const [theta, thetaDot] = [states[2 * i], states[2 * i + 1]];
      if (theta !== resetComponent(seed, i, 0, 0, 'f32') || thetaDot !== resetComponent(seed, i, 0, 1, 'f32')) mismatches++;
      pendulumObserve(states.subarray(2 * i, 2 * i + 2), o, 'f32');
      for (let k = 0; k < 3; k++) obsError = Math.max(obsError, Math.abs(obs[3 * i + k] - o[k]));
      [minTheta, maxTheta, minDot, maxDot] = [Math.min(minTheta, theta), Math.max(maxTheta, theta), Math.min(minDot, thetaDot), Math.max(maxDot, thetaDot)];
      sumTheta += theta;
    }
    expect(mismatches).toBe(0);
    expect(obsError).toBeLessThanOrEqual(1e-6);
    expect(minTheta).toBeGreaterThanOrEqual(-Math.PI);
    expect(maxTheta).toBeLessThan(Math.PI);
    expect(minTheta).toBeLessThan(-3.14);
    expect(maxTheta).toBeGreaterThan(3.14);
    expect(minDot).toBeGreaterThanOrEqual(-1);
    expect(maxDot).toBeLessThan(1);
    expect(Math.abs(sumTheta / n)).toBeLessThan(0.03);
  });
});

describe('episode semantics on the GPU', () => {
  it('never terminates; truncates at 200 keeping the final observation; rewards are −cost of the state before; returns counted', async () => {
    const n = 5;
    const seed = 99;
    const env = makeVecEnv(gpu(), { env: 'Pendulum-v1', numEnvs: n });
    expect(env.spec.rewardThreshold).toBeNull();
    const first = await env.reset(seed);
    const o = new Float32Array(3);
    const cpuReturns = new Float32Array(n);
    let rewardError = 0, out;
    for (let t = 1; t <= p.maxEpisodeSteps; t++) {
      const before = (await env.getStates()).states;
      if (t === 1) {
        for (let i = 0; i < n; i++) {
          expect(before[2 * i]).toBe(resetComponent(seed, i, 0, 0, 'f32'));
          pendulumObserve(before.subarray(2 * i, 2 * i + 2), o, 'f32');
          for (let k = 0; k < 3; k++) expect(Math.abs(first[3 * i + k] - o[k])).toBeLessThanOrEqual(1e-6);
        }
      }
      // Torques beyond ±max_torque too: the kernel clips them (for the cost as well).
      const actions = Float32Array.from({ length: n }, (_, i) => Math.sin(0.1 * t + i) * (1 + i));
      out = await env.step(actions);
      for (let i = 0; i < n; i++) {
        const s = Float32Array.from(before.subarray(2 * i, 2 * i + 2));
        const reward = pendulumStep(s, actions[i], p, 'f32');
        rewardError = Math.max(rewardError, rel(out.rewards[i], reward));
        expect(out.rewards[i]).toBeLessThanOrEqual(0);
        // −(π² + 0.1·8² + 0.001·2²) = −16.2736044, a little more in f32 where |θ| rounds to π_f32.
        expect(out.rewards[i]).toBeGreaterThanOrEqual(-16.27361);
        cpuReturns[i] = f(cpuReturns[i] + out.rewards[i]);
      }
      expect(Array.from(out.terminated)).toEqual([0, 0, 0, 0, 0]);
      expect(Array.from(out.truncated)).toEqual(new Array(n).fill(t === p.maxEpisodeSteps ? 1 : 0));
    }
    expect(rewardError).toBeLessThanOrEqual(5e-7);
    const after = await env.getStates();
    expect(Array.from(after.elapsed)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(after.episode)).toEqual([1, 1, 1, 1, 1]);
    for (let i = 0; i < n; i++) {
      expect(after.states[2 * i]).toBe(resetComponent(seed, i, 1, 0, 'f32'));
      expect(after.states[2 * i + 1]).toBe(resetComponent(seed, i, 1, 1, 'f32'));
      pendulumObserve(after.states.subarray(2 * i, 2 * i + 2), o, 'f32');
      for (let k = 0; k < 3; k++) {
        expect(Math.abs(out!.obs[3 * i + k] - o[k])).toBeLessThanOrEqual(1e-6);
        expect(out!.finalObs[3 * i + k]).not.toBe(out!.obs[3 * i + k]);
      }
    }
    const stats = await env.readStats();
    expect(stats.finished).toBe(n);
    expect(stats.lengthSum).toBe(n * p.maxEpisodeSteps);
    // The kernel sums the f32 rewards in order, as cpuReturns does: the same bits.
    const byValue = (a: number, b: number) => a - b;
    expect(Array.from(stats.recentReturns).sort(byValue)).toEqual(Array.from(cpuReturns).sort(byValue));
    expect((await env.readStats()).finished).toBe(0);
    env.destroy();
  });

  it('random-policy rollouts: every episode runs 200 steps, returns near −1200', async () => {
    const n = 4096;
    const env = makeVecEnv(gpu(), { env: 'Pendulum-v1', numEnvs: n });
    await env.reset(5);
    // One episode per env and dispatch: envRandomRollout rings one return per invocation, so a dispatch
    // that finishes two episodes per env would leave every other ring slot unwritten.
    for (let episode = 0; episode < 2; episode++) {
      env.randomRollout(p.maxEpisodeSteps);
      const stats = await env.readStats();
      expect(stats.finished).toBe(n);
      expect(stats.lengthSum).toBe(n * p.maxEpisodeSteps);
      const returns = Array.from(stats.recentReturns);
      expect(returns.length).toBe(256);
      const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
      console.info(`Pendulum random policy: mean return ${mean.toFixed(1)} over ${returns.length} episodes`);
      expect(mean).toBeGreaterThan(-1500);
      expect(mean).toBeLessThan(-1000);
      for (const r of returns) expect(r).toBeLessThan(-1);
    }
    env.destroy();
  });

  it('random actions are U(−2, 2): the CPU f32 vec env on the same draws gives nearly the same returns', async () => {
    // Same seeds, same draws (random_uniform ↔ rngUniform on stream RANDOM_POLICY + 1): the returns only
    // drift apart by the sin/cos ulps that chaotic swinging amplifies.
    const n = 64;
    const seed = 8;
    const env = makeVecEnv(gpu(), { env: 'Pendulum-v1', numEnvs: n });
    await env.reset(seed);
    env.randomRollout(p.maxEpisodeSteps);
    const stats = await env.readStats();
    env.destroy();
    const { CpuVecEnv } = await import('../../src/envs/cpu-vec-env.ts');
    const cpu = new CpuVecEnv(n, 'Pendulum-v1', 'f32');
    cpu.reset(seed);
    const actions = new Float32Array(n);
    for (let t = 0; t < p.maxEpisodeSteps; t++) {
      for (let i = 0; i < n; i++) actions[i] = f(-2 + f(4 * f(rngUniform(seed, RNG_STREAM_RANDOM_POLICY + 1, i, t))));
      cpu.step(actions);
    }
    const gpuMean = Array.from(stats.recentReturns).reduce((a, b) => a + b, 0) / n;
    const cpuMean = cpu.finishedReturns.reduce((a, b) => a + b, 0) / n;
    console.info(`Pendulum random policy, 64 envs: GPU mean return ${gpuMean.toFixed(3)}, CPU f32 ${cpuMean.toFixed(3)}`);
    expect(stats.finished).toBe(n);
    expect(Math.abs(gpuMean - cpuMean)).toBeLessThan(0.01 * Math.abs(cpuMean));
  });

  it('is in the registry with its descriptor', () => {
    const spec = envSpec('Pendulum-v1');
    expect(spec.actionSpace).toEqual({ type: 'Box', low: [-2], high: [2], shape: [1] });
    expect(spec.observationHigh).toEqual([1, 1, 8]);
    expect(spec.observationLow).toEqual([-1, -1, -8]);
    expect(spec.stateNames).toEqual(['theta', 'theta_dot']);
    expect(spec.maxEpisodeSteps).toBe(200);
    expect(spec.rewardThreshold).toBeNull();
  });
});
