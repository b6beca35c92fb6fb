/**
 * Acrobot-v1: the descriptor of shaders/envs/acrobot.wgsl and its CPU reference, written by hand from
 * Gymnasium 1.4's AcrobotEnv (gymnasium/envs/classic_control/acrobot.py; never derived from the kernel):
 * book dynamics (`_dsdt`), one RK4 step over [0, dt], then `wrap` of both angles into [−π, π] and `bound`
 * of both velocities, terminal when −cos θ1 − cos(θ2 + θ1) > 1 on the new state. Constants exactly as the
 * class attributes; one object feeds both the WGSL `override`s and the reference.
 */
import { RNG_STREAM_RESET, rngUniform } from '../rng.ts';
import type { CpuEnv, CpuStep, EnvSpec, FloatArray, Precision } from './types.ts';

export interface AcrobotParams {
  /** Link lengths [m]; only the first enters the dynamics (the second is drawn). */
  linkLength1: number;
  linkLength2: number;
  linkMass1: number;
  linkMass2: number;
  /** Positions of the links' centres of mass [m]. */
  linkComPos1: number;
  linkComPos2: number;
  /** Moment of inertia of both links. */
  linkMoi: number;
  /** `g` inside `_dsdt`. */
  gravity: number;
  dt: number;
  /** Velocity bounds applied after the step: θ̇1 to ±maxVel1, θ̇2 to ±maxVel2. */
  maxVel1: number;
  maxVel2: number;
  /** Torques of actions 0, 1, 2 (AVAIL_TORQUE). */
  availTorque: [number, number, number];
  maxEpisodeSteps: number;
  rewardThreshold: number;
}

export const ACROBOT_PARAMS: AcrobotParams = {
  linkLength1: 1.0,
  linkLength2: 1.0,
  linkMass1: 1.0,
  linkMass2: 1.0,
  linkComPos1: 0.5,
  linkComPos2: 0.5,
  linkMoi: 1.0,
  gravity: 9.8,
  dt: 0.2,
  maxVel1: 4 * Math.PI,
  maxVel2: 9 * Math.PI,
  availTorque: [-1.0, 0.0, 1.0],
  maxEpisodeSteps: 500,
  rewardThreshold: -100,
};

/**
 * Most turns `wrap` removes in each direction. Gymnasium loops without limit (for ever on ±Infinity); from
 * any state inside the observation box one RK4 step moves an angle by less than 26 rad (≤ 5 turns), so the
 * cap only matters for states injected far outside the box, which it keeps from hanging the GPU.
 */
export const WRAP_MAX_TURNS = 64;

/** The WGSL `override` values of shaders/envs/acrobot.wgsl. */
export function acrobotShaderConstants(p: AcrobotParams): Record<string, number> {
  return {
    link_length_1: p.linkLength1,
    link_mass_1: p.linkMass1,
    link_mass_2: p.linkMass2,
    link_com_pos_1: p.linkComPos1,
    link_com_pos_2: p.linkComPos2,
    link_moi: p.linkMoi,
    gravity: p.gravity,
    dt: p.dt,
    max_vel_1: p.maxVel1,
    max_vel_2: p.maxVel2,
    avail_torque_0: p.availTorque[0],
    avail_torque_1: p.availTorque[1],
    avail_torque_2: p.availTorque[2],
  };
}

type Round = (v: number) => number;
const identity: Round = (v) => v;

/** The constants as the arithmetic sees them: f64, or each rounded to f32 as the WGSL overrides are. */
interface Dynamics {
  m1: number; m2: number; l1: number; lc1: number; lc2: number; i1: number; i2: number; g: number;
  halfPi: number;
}

function dynamics(p: AcrobotParams, r: Round): Dynamics {
  return {
    m1: r(p.linkMass1), m2: r(p.linkMass2), l1: r(p.linkLength1), lc1: r(p.linkComPos1), lc2: r(p.linkComPos2),
    i1: r(p.linkMoi), i2: r(p.linkMoi), g: r(p.gravity), halfPi: r(Math.PI / 2.0),
  };
}

/**
 * Gymnasium's `_dsdt` (book dynamics) at y = (θ1, θ2, θ̇1, θ̇2) under torque a, in its exact evaluation
 * order (Python's left-to-right `*` and `+`; `x**2` as x·x), each operation rounded by `r`. Writes
 * (θ̇1, θ̇2, θ̈1, θ̈2) to k[o..o+3]; the torque's derivative 0.0 is left implicit.
 */
function dsdt(c: Dynamics, r: Round, theta1: number, theta2: number, dtheta1: number, dtheta2: number, a: number, k: Float64Array, o: number): void {
  const { m1, m2, l1, lc1, lc2, i1, i2, g, halfPi } = c;
  const cosTheta2 = r(Math.cos(theta2));
  const sinTheta2 = r(Math.sin(theta2));
  const d1 = r(r(r(r(m1 * r(lc1 * lc1)) + r(m2 * r(r(r(l1 * l1) + r(lc2 * lc2)) + r(r(r(2 * l1) * lc2) * cosTheta2)))) + i1) + i2);
  const d2 = r(r(m2 * r(r(lc2 * lc2) + r(r(l1 * lc2) * cosTheta2))) + i2);
  const phi2 = r(r(r(m2 * lc2) * g) * r(Math.cos(r(r(theta1 + theta2) - halfPi))));
  const phi1 = r(
    r(
      r(
        r(r(r(r(-m2 * l1) * lc2) * r(dtheta2 * dtheta2)) * sinTheta2) -
          r(r(r(r(r(r(2 * m2) * l1) * lc2) * dtheta2) * dtheta1) * sinTheta2),
      ) + r(r(r(r(m1 * lc1) + r(m2 * l1)) * g) * r(Math.cos(r(theta1 - halfPi)))),
    ) + phi2,
  );
  const ddtheta2 = r(
    r(r(r(a + r(r(d2 / d1) * phi1)) - r(r(r(r(m2 * l1) * lc2) * r(dtheta1 * dtheta1)) * sinTheta2)) - phi2) /
      r(r(r(m2 * r(lc2 * lc2)) + i2) - r(r(d2 * d2) / d1)),
  );
  const ddtheta1 = r(-r(r(d2 * ddtheta2) + phi1) / d1);
  k[o] = dtheta1;
  k[o + 1] = dtheta2;
  k[o + 2] = ddtheta1;
  k[o + 3] = ddtheta2;
}

/** Gymnasium's `wrap`: subtract, then add, the range's width until m ≤ x ≤ M (at most WRAP_MAX_TURNS each). */
function wrap(x: number, m: number, big: number, r: Round): number {
  const diff = r(big - m);
  for (let i = 0; i < WRAP_MAX_TURNS && x > big; i++) x = r(x - diff);
  for (let i = 0; i < WRAP_MAX_TURNS && x < m; i++) x = r(x + diff);
  return x;
}

/** Gymnasium's `bound`: Python's min(max(x, m), M), which keeps a NaN x (max/min replace only on a true `>`/`<`). */
function bound(x: number, m: number, big: number): number {
  const lo = m > x ? m : x;
  return big < lo ? big : lo;
}

const k = new Float64Array(16);
const y = new Float64Array(4);

/**
 * One step of one env. `s` is [θ1, θ2, θ̇1, θ̇2] and is overwritten with the new state; returns
 * `terminated`. 'f64' is Gymnasium (float64 arithmetic); 'f32' rounds every operation to f32 in the same
 * order, as the WGSL computes it (the GPU's sin/cos and any fused multiply-adds still differ in last bits).
 */
export function acrobotStep(s: FloatArray | number[], action: number, p: AcrobotParams, precision: Precision): boolean {
  const r = precision === 'f32' ? Math.fround : identity;
  const c = dynamics(p, r);
  const a = r(p.availTorque[action]);
  // rk4(derivs, y0, [0, dt]): one step, dt = t[1] − t[0].
  const dt = r(p.dt);
  const dt2 = r(dt / 2.0);
  dsdt(c, r, s[0], s[1], s[2], s[3], a, k, 0);
  for (let j = 0; j < 4; j++) y[j] = r(s[j] + r(dt2 * k[j]));
  dsdt(c, r, y[0], y[1], y[2], y[3], a, k, 4);
  for (let j = 0; j < 4; j++) y[j] = r(s[j] + r(dt2 * k[4 + j]));
  dsdt(c, r, y[0], y[1], y[2], y[3], a, k, 8);
  for (let j = 0; j < 4; j++) y[j] = r(s[j] + r(dt * k[8 + j]));
  dsdt(c, r, y[0], y[1], y[2], y[3], a, k, 12);
  const dt6 = r(dt / 6.0);
  for (let j = 0; j < 4; j++) y[j] = r(s[j] + r(dt6 * r(r(r(k[j] + r(2 * k[4 + j])) + r(2 * k[8 + j])) + k[12 + j])));
  const pi = r(Math.PI);
  const maxVel1 = r(p.maxVel1), maxVel2 = r(p.maxVel2);
  s[0] = wrap(y[0], -pi, pi, r);
  s[1] = wrap(y[1], -pi, pi, r);
  s[2] = bound(y[2], -maxVel1, maxVel1);
  s[3] = bound(y[3], -maxVel2, maxVel2);
  return r(r(-r(Math.cos(s[0]))) - r(Math.cos(r(s[1] + s[0])))) > 1.0;
}

/** Gymnasium's reward: −1 on every step that does not reach the goal height, 0 on the one that does. */
export function acrobotReward(terminated: boolean): number {
  return terminated ? 0.0 : -1.0;
}

/**
 * Component `lane` of the first state of (seed, env, episode): U(−0.1, 0.1) as (u − 0.5)·0.2, the same bits
 * as the GPU in 'f32'. 'f64' rounds the f64 draw to f32, as Gymnasium stores its reset state as float32.
 */
export function acrobotResetComponent(seed: number, env: number, episode: number, lane: number, precision: Precision): number {
  const u = rngUniform(seed, RNG_STREAM_RESET + lane, env, episode);
  return precision === 'f32' ? Math.fround(Math.fround(u - 0.5) * Math.fround(0.2)) : Math.fround((u - 0.5) * 0.2);
}

/** Gymnasium's `_get_ob`: float32 of (cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2), from the state in either precision. */
export function acrobotObserve(s: ArrayLike<number>, out: FloatArray): void {
  out[0] = Math.fround(Math.cos(s[0]));
  out[1] = Math.fround(Math.sin(s[0]));
  out[2] = Math.fround(Math.cos(s[1]));
  out[3] = Math.fround(Math.sin(s[1]));
  out[4] = Math.fround(s[2]);
  out[5] = Math.fround(s[3]);
}

export function acrobotCpu(p: AcrobotParams): CpuEnv {
  return {
    reset(state, seed, env, episode, precision) {
      for (let lane = 0; lane < 4; lane++) state[lane] = acrobotResetComponent(seed, env, episode, lane, precision);
    },
    step(state, action, precision, out: CpuStep) {
      out.terminated = acrobotStep(state, action as number, p, precision);
      out.reward = acrobotReward(out.terminated);
    },
    observe(state, out) {
      acrobotObserve(state, out);
    },
  };
}

/** The descriptor of Acrobot-v1, with optional overrides of Gymnasium's constants. */
export function acrobotSpec(overrides: Partial<AcrobotParams> = {}): EnvSpec & { params: AcrobotParams } {
  const p = { ...ACROBOT_PARAMS, ...overrides };
  // Gymnasium's observation_space is a float32 Box: its velocity bounds are float32(4π), float32(9π).
  const high = [1, 1, 1, 1, Math.fround(p.maxVel1), Math.fround(p.maxVel2)];
  return {
    id: 'Acrobot-v1',
    module: { stem: 'envs/acrobot' },
    observationSize: 6,
    observationLow: high.map((v) => -v),
    observationHigh: high,
    actionSpace: { type: 'Discrete', n: 3 },
    stateNames: ['theta1', 'theta2', 'dtheta1', 'dtheta2'],
    maxEpisodeSteps: p.maxEpisodeSteps,
    rewardThreshold: p.rewardThreshold,
    constants: acrobotShaderConstants(p),
    cpu: acrobotCpu(p),
    summary: 'two links hanging from a pivot: torque the elbow to swing the tip above a line (Sutton 1996)',
    params: p,
  };
}
