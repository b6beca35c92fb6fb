/**
 * Acrobot-v1, one stem: shaders/envs/acrobot.wgsl ↔ src/envs/acrobot.ts (descriptor and CPU reference).
 * The CPU reference against Gymnasium 1.4's golden single steps, then the GPU kernel against both.
 *
 * Measured on lavapipe (Mesa 25, 2 cores); errors are |a − b| / max(1, |b|) (gpuVersusCpu's state error is
 * absolute), angles in the golden test compared on the circle:
 *   CPU 'f64' vs golden, 4,000 rows:       next state 1.5e-13, observation 0 (every float32 equal), flags exact.
 *   CPU 'f32' vs golden:                   1.7e-3: one RK4 step in f32 loses up to ~3 digits at high speed.
 *   GPU vs golden:                         1.7e-3 over all rows; 1.6e-6 where |θ̇1| ≤ 2π and |θ̇2| ≤ 4.5π
 *                                          ("moderate": half the bounds); GPU vs CPU 'f32' 6.6e-5; no flag differs.
 *   GPU vs CPU 'f64', same f32 states:     whole box up to 4.2e-2 (state) and 1.2e-2 (obs) at N = 4,194,241,
 *                                          4.3e-3 at N = 4097; moderate velocities 7.8e-6 at N = 65,536.
 *                                          One terminated flag differs in 4.2M, at 2.6e-8 from the line.
 *   Reset: states and velocity observations bit for bit; the GPU's cos/sin within 1 ulp of fround(Math.cos/sin).
 * The error grows with the velocities, not with the GPU: the CPU's f32 mirror is as far from f64 (RK4's
 * stages reach accelerations of ~10³ that cancel; f32 rounding of those is the bound, not sin/cos).
 * Tolerances: TOL_BOX 0.1 over the whole box, TOL_MODERATE 2e-5 at moderate velocities; a terminated flag
 * may differ only within 3 × that tolerance of the line (its slope in θ1, θ2 is at most 3).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ACROBOT_PARAMS, acrobotObserve, acrobotResetComponent, acrobotSpec, acrobotStep } from '../../src/envs/acrobot.ts';
import { makeVecEnv } from '../../src/envs/vec-env.ts';
import { rngUniform } from '../../src/rng.ts';
import { gpuVersusCpu } from '../helpers/env-parity.ts';
import type { ClassicRow } from '../helpers/golden.ts';
import { useGpu } from '../helpers/gpu.ts';

const p = ACROBOT_PARAMS;

// Tolerances on |GPU − reference| of states and observations (see the header for what was measured).
const TOL_BOX = 0.1;
const TOL_MODERATE = 2e-5;
const TRIG_ULPS = 1;

/**
 * ../shared/data/classic_control/Acrobot-v1.csv as loadClassicControl (test/helpers/golden.ts) reads it,
 * but with CRLF line ends, which the file has and that loader does not split on (its header's last
 * column then reads "terminated\r" and it throws).
 */
function loadAcrobotGolden(): ClassicRow[] {
  const path = fileURLToPath(new URL('../../../shared/data/classic_control/Acrobot-v1.csv', import.meta.url));
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const header = head.split(',');
  const at = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`golden file ${path} has no column ${name}`);
    return i;
  };
  const cols = (names: string[]) => names.map(at);
  const [s, next, obs] = [cols(['s0', 's1', 's2', 's3']), cols(['next_s0', 'next_s1', 'next_s2', 'next_s3']), cols(['obs0', 'obs1', 'obs2', 'obs3', 'obs4', 'obs5'])];
  const [action, reward, terminated] = [at('action'), at('reward'), at('terminated')];
  return lines.map((line) => {
    const c = line.split(',').map(Number);
    return { state: s.map((i) => c[i]), action: c[action], next: next.map((i) => c[i]), obs: obs.map((i) => c[i]), reward: c[reward], terminated: c[terminated] === 1 };
  });
}

const rows = loadAcrobotGolden();

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));
/** Distance of two angles on the circle: θ = π and θ = −π are the same state. */
const angleDistance = (a: number, b: number) => {
  const d = Math.abs(a - b) % (2 * Math.PI);
  return Math.min(d, 2 * Math.PI - d);
};
/** Height of the tip above the terminal line: terminated when positive (Gymnasium's `_terminal`). */
const height = (s: ArrayLike<number>) => -Math.cos(s[0]) - Math.cos(s[1] + s[0]) - 1.0;

describe('CPU reference vs Gymnasium golden steps', () => {
  it('has all 4,000 rows, with terminal rows among them', () => {
    expect(rows.length).toBe(4000);
    expect(rows.filter((r) => r.terminated).length).toBe(1098);
  });

  it("'f64' reproduces next state, observation, reward and terminated of every row", () => {
    let worstState = 0, worstObs = 0;
    const cpu = acrobotSpec().cpu!;
    const s = new Float64Array(4);
    const o = new Float64Array(6);
    const out = { reward: NaN, terminated: false };
    for (const [i, row] of rows.entries()) {
      s.set(row.state);
      cpu.step(s, row.action, 'f64', out);
      expect(out.terminated, `row ${i}`).toBe(row.terminated);
      expect(out.reward, `row ${i}`).toBe(row.reward);
      for (let k = 0; k < 4; k++) worstState = Math.max(worstState, rel(s[k], row.next[k]));
      cpu.observe(s, o, 'f64');
      for (let k = 0; k < 6; k++) worstObs = Math.max(worstObs, rel(o[k], row.obs[k]));
    }
    console.info(`Acrobot CPU f64 vs golden: state ${worstState.toExponential(2)}, obs ${worstObs.toExponential(2)}`);
    expect(worstState).toBeLessThanOrEqual(1e-12);
    expect(worstObs).toBeLessThanOrEqual(1e-12);
  });

  it("'f32' stays within f32 rounding of the golden rows", () => {
    let worst = 0;
    const s = new Float32Array(4);
    for (const row of rows) {
      s.set(row.state);
      acrobotStep(s, row.action, p, 'f32');
      for (let k = 0; k < 4; k++) worst = Math.max(worst, k < 2 ? angleDistance(s[k], row.next[k]) : rel(s[k], row.next[k]));
    }
    console.info(`Acrobot CPU f32 vs golden: state ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(TOL_BOX);
  });
});

/** Whether a state's velocities are both within half their bounds, where f32 arithmetic stays close to f64. */
const moderate = (s: ArrayLike<number>) => Math.abs(s[2]) <= p.maxVel1 / 2 && Math.abs(s[3]) <= p.maxVel2 / 2;

const gpu = useGpu();

describe('GPU kernel vs Gymnasium golden steps', () => {
  it('matches every row within the measured tolerance; terminated differs only at the boundary', async () => {
    const n = rows.length;
    const env = makeVecEnv(gpu(), { env: acrobotSpec(), numEnvs: n });
    await env.reset(0);
    const states = Float32Array.from(rows.flatMap((r) => r.state));
    env.setStates(states);
    const out = await env.step(rows.map((r) => r.action));
    const after = await env.getStates();
    env.destroy();
    const worst = { all: 0, moderate: 0, mirror: 0 };
    const flips: number[] = [];
    const s = new Float32Array(4);
    rows.forEach((row, i) => {
      let err = 0;
      for (let k = 0; k < 6; k++) err = Math.max(err, rel(out.finalObs[i * 6 + k], row.obs[k]));
      const terminated = out.terminated[i] === 1;
      if (terminated !== row.terminated) flips.push(i);
      expect(out.rewards[i], `row ${i}`).toBe(terminated ? 0 : -1);
      expect(out.truncated[i]).toBe(0);
      if (!terminated) {
        s.set(states.subarray(i * 4, i * 4 + 4));
        acrobotStep(s, row.action, p, 'f32');
        for (let k = 0; k < 4; k++) {
          const g = after.states[i * 4 + k];
          err = Math.max(err, k < 2 ? angleDistance(g, row.next[k]) : rel(g, row.next[k]));
          worst.mirror = Math.max(worst.mirror, k < 2 ? angleDistance(g, s[k]) : rel(g, s[k]));
        }
      }
      worst.all = Math.max(worst.all, err);
      if (moderate(row.state)) worst.moderate = Math.max(worst.moderate, err);
    });
    const margins = flips.map((i) => Math.abs(height(rows[i].next)));
    const allowed = flips.map((i) => 3 * (moderate(rows[i].state) ? TOL_MODERATE : TOL_BOX));
    console.info(`Acrobot GPU vs golden: all ${worst.all.toExponential(2)}, moderate ${worst.moderate.toExponential(2)}; GPU vs CPU f32: ${worst.mirror.toExponential(2)}; flips ${flips.length} at ${margins.map((m) => m.toExponential(1)).join(' ')}`);
    expect(worst.all).toBeLessThanOrEqual(TOL_BOX);
    expect(worst.moderate).toBeLessThanOrEqual(TOL_MODERATE);
    expect(flips.length).toBeLessThanOrEqual(2);
    margins.forEach((m, j) => expect(m, `row ${flips[j]}`).toBeLessThanOrEqual(allowed[j]));
  });
});

/**
 * States over the whole box (θ in [−π, π], velocities up to `velocityScale` of their bounds, every 16th at
 * them), every 8th one with its tip near the terminal line. States whose next angle lands within 1e-4 of
 * the ±π seam are redrawn: gpuVersusCpu compares states without wrapping, and there the GPU and the f64
 * reference may rightly wrap to opposite ends (the golden test compares angles on the circle instead).
 */
function injectedStates(n: number, seed: number, velocityScale = 1): Float32Array {
  const states = new Float32Array(n * 4);
  const s = new Float64Array(4);
  const pi = Math.PI;
  const [v1, v2] = [p.maxVel1 * velocityScale, p.maxVel2 * velocityScale];
  for (let i = 0; i < n; i++) {
    for (let attempt = 0; ; attempt++) {
      const u = (lane: number) => rngUniform(seed, 16 * attempt + lane, i, 0);
      s[0] = (2 * u(0) - 1) * pi;
      s[1] = (2 * u(1) - 1) * pi;
      s[2] = (2 * u(2) - 1) * v1;
      s[3] = (2 * u(3) - 1) * v2;
      if (i % 8 === 1) {
        // Tip on the line −cos θ1 − cos(θ1 + θ2) = 1, up to ±0.02, slow.
        s[0] = (u(0) < 0.5 ? -1 : 1) * (pi / 2 + (u(4) * pi) / 2);
        const c = Math.min(1, Math.max(-1, -1 - Math.cos(s[0]) + (u(5) - 0.5) * 0.04));
        const sum = (u(6) < 0.5 ? -1 : 1) * Math.acos(c);
        s[1] = Math.atan2(Math.sin(sum - s[0]), Math.cos(sum - s[0]));
        s[2] = (u(2) - 0.5) * 0.2;
        s[3] = (u(3) - 0.5) * 0.2;
      } else if (i % 16 === 6) {
        s[2] = u(7) < 0.5 ? -v1 : v1;
        s[3] = u(8) < 0.5 ? -v2 : v2;
      }
      for (let k = 0; k < 4; k++) s[k] = Math.fround(s[k]);
      states.set(s, i * 4);
      acrobotStep(s, i % 3, p, 'f64');
      if (Math.PI - Math.abs(s[0]) > 1e-4 && Math.PI - Math.abs(s[1]) > 1e-4) break;
    }
  }
  return states;
}

describe('GPU kernel vs CPU reference, one step from the same injected states', () => {
  const cases: [number, number, number][] = [
    // [N, velocity scale, tolerance]
    ...[1, 63, 64, 65, 4097, 65535 * 64 + 1].map((n) => [n, 1, TOL_BOX] as [number, number, number]),
    [65536, 0.5, TOL_MODERATE],
  ];
  for (const [n, velocityScale, tol] of cases) {
    it(`N = ${n}, velocities up to ${velocityScale} of their bounds`, async () => {
      const spec = acrobotSpec();
      const states = injectedStates(n, n, velocityScale);
      const report = await gpuVersusCpu(gpu(), spec, {
        numEnvs: n,
        seed: 1234 + n,
        states,
        actions: Uint32Array.from({ length: n }, (_, i) => i % 3),
        // Every 7th env sits one step before the time limit, so truncation and its reset are covered too.
        elapsed: Uint32Array.from({ length: n }, (_, i) => (i % 7 === 3 || n === 1 ? spec.maxEpisodeSteps - 1 : i % 400)),
        episode: Uint32Array.from({ length: n }, (_, i) => i % 5),
      });
      const flips = report.terminatedMismatches;
      const margins = flips.map((i) => Math.abs(height(report.cpuNext.subarray(i * 4, i * 4 + 4))));
      const allowed = flips.map((i) => 3 * (moderate(states.subarray(i * 4, i * 4 + 4)) ? TOL_MODERATE : TOL_BOX));
      console.info(`Acrobot GPU vs CPU N=${n} v≤${velocityScale}: state ${report.stateError.toExponential(2)}, obs ${report.obsError.toExponential(2)}, flips ${flips.length} at ${margins.map((m) => m.toExponential(1)).join(' ')}, dones ${report.dones}`);
      expect(report.stateError).toBeLessThanOrEqual(tol);
      expect(report.obsError).toBeLessThanOrEqual(tol);
      // A reward differs exactly where terminated does.
      expect(report.rewardError).toBe(flips.length > 0 ? 1 : 0);
      expect(report.otherMismatches).toEqual([]);
      expect(flips.length).toBeLessThanOrEqual(Math.max(2, Math.ceil(n * 1e-6)));
      margins.forEach((m, j) => expect(m, `env ${flips[j]}`).toBeLessThanOrEqual(allowed[j]));
      if (n > 1000) expect(report.dones).toBeGreaterThan(n / 5);
      if (n === 1) expect(report.dones).toBe(1);
    });
  }
});

describe('reset on the GPU', () => {
  it("equals the CPU 'f32' reset bit for bit, every value in [−0.1, 0.1), first and later episodes", async () => {
    const n = 4096;
    const seed = 77;
    const env = makeVecEnv(gpu(), { env: acrobotSpec(), numEnvs: n });
    const obs = await env.reset(seed);
    const first = await env.getStates();
    // Every env one step before the time limit, from episode i % 9: the step resets each into episode i % 9 + 1.
    const episode = Uint32Array.from({ length: n }, (_, i) => i % 9);
    env.setStates(new Float32Array(n * 4), { elapsed: new Uint32Array(n).fill(499), episode });
    const out = await env.step(new Uint32Array(n).fill(1));
    const later = await env.getStates();
    env.destroy();
    const s = new Float32Array(4);
    const o = new Float32Array(6);
    let trigUlps = 0;
    for (const [states, observations, ep] of [[first.states, obs, () => 0], [later.states, out.obs, (i: number) => episode[i] + 1]] as const) {
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < 4; k++) {
          s[k] = acrobotResetComponent(seed, i, ep(i), k, 'f32');
          expect(states[i * 4 + k]).toBe(s[k]);
          expect(s[k]).toBeGreaterThanOrEqual(-0.1);
          expect(s[k]).toBeLessThan(0.1);
        }
        acrobotObserve(s, o);
        for (let k = 0; k < 6; k++) {
          if (k >= 4) expect(observations[i * 6 + k]).toBe(o[k]);
          else trigUlps = Math.max(trigUlps, Math.abs(observations[i * 6 + k] - o[k]) / ulp(o[k]));
        }
      }
    }
    expect(Array.from(out.truncated).every((t) => t === 1)).toBe(true);
    // cos and sin of the reset angles: the GPU's f32 cos/sin against the rounded f64 ones.
    console.info(`Acrobot reset obs: GPU cos/sin within ${trigUlps} ulp of fround(Math.cos/sin)`);
    expect(trigUlps).toBeLessThanOrEqual(TRIG_ULPS);
  });
});

/** The spacing of f32 values at x. */
function ulp(x: number): number {
  const a = Math.abs(Math.fround(x));
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

describe('episode semantics on the GPU', () => {
  it('zero torque from the reset state never terminates: reward −1 per step, truncated at 500, final observation kept', async () => {
    const n = 4;
    const seed = 21;
    const env = makeVecEnv(gpu(), { env: acrobotSpec(), numEnvs: n });
    await env.reset(seed);
    let out;
    for (let t = 1; t <= 500; t++) {
      out = await env.step(new Uint32Array(n).fill(1));
      expect(Array.from(out.rewards)).toEqual([-1, -1, -1, -1]);
      expect(Array.from(out.terminated)).toEqual([0, 0, 0, 0]);
      if (t < 500) expect(Array.from(out.truncated)).toEqual([0, 0, 0, 0]);
    }
    expect(Array.from(out!.truncated)).toEqual([1, 1, 1, 1]);
    const after = await env.getStates();
    expect(Array.from(after.elapsed)).toEqual([0, 0, 0, 0]);
    expect(Array.from(after.episode)).toEqual([1, 1, 1, 1]);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 4; k++) expect(after.states[i * 4 + k]).toBe(acrobotResetComponent(seed, i, 1, k, 'f32'));
      // The next episode's first observation, and the last one of the finished episode kept apart.
      expect(out!.obs[i * 6 + 4]).toBe(after.states[i * 4 + 2]);
      expect(out!.finalObs[i * 6 + 4]).not.toBe(out!.obs[i * 6 + 4]);
    }
    const stats = await env.readStats();
    expect(stats.finished).toBe(n);
    expect(stats.lengthSum).toBe(n * 500);
    expect(Array.from(stats.recentReturns)).toEqual([-500, -500, -500, -500]);
    expect((await env.readStats()).finished).toBe(0);
    env.destroy();
  });

  it('reward 0 on the terminating step, both flags when it is also the 500th, and the episode counted', async () => {
    const env = makeVecEnv(gpu(), { env: acrobotSpec(), numEnvs: 3 });
    const seed = 8;
    await env.reset(seed);
    // Upright (θ1 = 3): terminal after one step; the same at the time limit; hanging: neither.
    env.setStates([3, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0], {
      elapsed: Uint32Array.from([37, 499, 10]),
      episode: Uint32Array.from([2, 0, 0]),
      episodeReturn: Float32Array.from([-37, -499, -10]),
    });
    const out = await env.step([1, 1, 1]);
    expect(Array.from(out.terminated)).toEqual([1, 1, 0]);
    expect(Array.from(out.truncated)).toEqual([0, 1, 0]);
    expect(Object.is(out.rewards[0], 0) && Object.is(out.rewards[1], 0)).toBe(true);
    expect(out.rewards[2]).toBe(-1);
    const after = await env.getStates();
    expect(Array.from(after.episode)).toEqual([3, 1, 0]);
    expect(Array.from(after.elapsed)).toEqual([0, 0, 11]);
    for (let k = 0; k < 4; k++) expect(after.states[k]).toBe(acrobotResetComponent(seed, 0, 3, k, 'f32'));
    const stats = await env.readStats();
    expect(stats.finished).toBe(2);
    expect(stats.lengthSum).toBe(38 + 500);
    expect(Array.from(stats.recentReturns).sort((a, b) => a - b)).toEqual([-499, -37]);
    env.destroy();
  });

  it('a torque-along-θ̇2 policy swings up: −1 per step, 0 on the last, return = −(length − 1)', async () => {
    const n = 8;
    const env = makeVecEnv(gpu(), { env: acrobotSpec(), numEnvs: n });
    let obs = await env.reset(2);
    const lengths = new Array<number>(n).fill(0);
    for (let t = 1; t <= 500 && lengths.includes(0); t++) {
      const out = await env.step(Array.from({ length: n }, (_, i) => (obs[i * 6 + 5] >= 0 ? 2 : 0)));
      for (let i = 0; i < n; i++) {
        if (lengths[i] > 0) continue;
        expect(out.truncated[i]).toBe(0);
        expect(out.rewards[i]).toBe(out.terminated[i] ? 0 : -1);
        if (out.terminated[i]) {
          lengths[i] = t;
          // The tip above the line, from the final observation: −cos θ1 − (cos θ1 cos θ2 − sin θ1 sin θ2) − 1.
          const [c1, s1, c2, s2] = out.finalObs.subarray(i * 6, i * 6 + 4);
          expect(-c1 - (c1 * c2 - s1 * s2) - 1).toBeGreaterThan(-1e-6);
        }
      }
      obs = out.obs;
    }
    expect(lengths.every((l) => l > 0 && l < 500)).toBe(true);
    const stats = await env.readStats();
    expect(stats.finished).toBe(n);
    expect(stats.lengthSum).toBe(lengths.reduce((a, b) => a + b, 0));
    expect(Array.from(stats.recentReturns).sort((a, b) => a - b)).toEqual(lengths.map((l) => -(l - 1)).sort((a, b) => a - b));
    env.destroy();
  });

  it('random-policy rollouts in one dispatch: mostly truncated at 500, some swing up earlier', async () => {
    const n = 4096;
    const env = makeVecEnv(gpu(), { env: acrobotSpec(), numEnvs: n });
    await env.reset(5);
    // 600 steps: every env finishes its first episode, few a second. (With exactly two per env, as 1000
    // steps give, vec_env.wgsl's ring slot `first % 256` is always even and half the ring stays 0.)
    env.randomRollout(600);
    const stats = await env.readStats();
    env.destroy();
    // The CPU reference under the same policy: 98.5% of episodes truncated, mean return −499.0.
    const meanLength = stats.lengthSum / stats.finished;
    const meanReturn = stats.recentReturns.reduce((a, b) => a + b, 0) / stats.recentReturns.length;
    console.info(`Acrobot random policy: ${stats.finished / n} episodes per env, mean length ${meanLength.toFixed(1)}, mean return ${meanReturn.toFixed(1)}`);
    expect(stats.finished / n).toBeGreaterThanOrEqual(1);
    expect(stats.finished / n).toBeLessThan(1.1);
    expect(meanLength).toBeLessThan(500);
    expect(meanLength).toBeGreaterThan(480);
    for (const r of stats.recentReturns) {
      expect(Number.isInteger(r) && r >= -500 && r <= 0).toBe(true);
    }
    expect(meanReturn).toBeGreaterThan(-500);
    expect(meanReturn).toBeLessThan(-470);
  });
});
