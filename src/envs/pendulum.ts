/**
 * Pendulum-v1: the descriptor of shaders/envs/pendulum.wgsl and its CPU reference, written by hand from
 * Gymnasium 1.4's PendulumEnv (never derived from the kernel). One object of constants feeds both the
 * WGSL `override`s and the reference.
 *
 * Gymnasium's semantics, which the 'f64' reference reproduces bit for bit up to libm's last ulp:
 * - the state is float64 and θ is never wrapped (it drifts without bound); only the cost normalizes it;
 * - the action is a float32 array (the Box's dtype), and NumPy 2 keeps arithmetic with a float32 scalar
 *   in float32: u = clip(a, ±max_torque), u², 0.001·u² and 3/(m l²)·u are float32 values added to float64;
 * - the cost is taken from the state before the step; θ̇ is clipped before θ integrates it;
 * - it never terminates; the TimeLimit truncates at 200 steps; there is no reward threshold.
 */
import { RNG_STREAM_RESET, rngUniform } from '../rng.ts';
import type { CpuEnv, CpuStep, EnvSpec, FloatArray, Precision } from './types.ts';

export interface PendulumParams {
  /** θ̇ is clipped to ±maxSpeed. */
  maxSpeed: number;
  /** The torque is clipped to ±maxTorque; also the action space's bounds. */
  maxTorque: number;
  dt: number;
  /** Gymnasium's g (the only constructor argument, 10 by default), m and l. */
  g: number;
  m: number;
  l: number;
  /** TimeLimit: an episode is truncated when it has run this many steps. */
  maxEpisodeSteps: number;
}

export const PENDULUM_V1: Readonly<PendulumParams> = { maxSpeed: 8, maxTorque: 2.0, dt: 0.05, g: 10.0, m: 1.0, l: 1.0, maxEpisodeSteps: 200 };

export function pendulumParams(overrides: Partial<PendulumParams> = {}): PendulumParams {
  return { ...PENDULUM_V1, ...overrides };
}

/** The WGSL `override` values of shaders/envs/pendulum.wgsl (descriptive names: `g`, `m`, `l` would be easy to collide with). */
export function pendulumShaderConstants(p: PendulumParams): Record<string, number> {
  return { max_speed: p.maxSpeed, max_torque: p.maxTorque, dt: p.dt, gravity: p.g, mass: p.m, rod_length: p.l };
}

const f = Math.fround;

/** π rounded to f32 (3.1415927410…, above π); the f32 angle normalization folds against it. */
export const PI_F32 = f(Math.PI);
/** 2π rounded down to f32: θ = (u − 0.5)·this stays in [−π, π) as Gymnasium's reset does (2π rounded to nearest puts u = 0 at −π_f32 < −π). */
export const TWO_PI_DOWN_F32 = 6.283185005187988;
const INV_TWO_PI_F32 = f(1 / (2 * Math.PI));
/** 2π as four f32 pieces of at most 12 significant bits at fixed bit positions (2^2…2^-45): k·piece is exact for |k| < 4096. */
export const TWO_PI_PIECES = [6.28125, 0.0019350051879882812, 3.019813448190689e-7, 1.0231815394945443e-11] as const;

/** Gymnasium's angle_normalize in float64: ((x + π) % 2π) − π with Python's floor-mod (the result takes the divisor's sign). */
export function angleNormalize(x: number): number {
  const twoPi = 2 * Math.PI;
  // JS % is C's fmod (exact); Python's float % then adds the divisor when the signs differ, and makes 0 positive.
  let mod = (x + Math.PI) % twoPi;
  if (mod < 0) mod += twoPi;
  else if (mod === 0) mod = 0;
  return mod - Math.PI;
}

/** WGSL's round(): to the nearest integer, ties to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** x − k·2π in f32, every product exact (Cody–Waite): the same bits fused or not. */
function reduceF32(x: number, k: number): number {
  const [a, b, c, d] = TWO_PI_PIECES;
  let r = f(x - f(k * a));
  r = f(r - f(k * b));
  r = f(r - f(k * c));
  return f(r - f(k * d));
}

/**
 * angle_normalize of an f32 θ, as shaders/envs/pendulum.wgsl computes it: the reduction of θ by the nearest
 * multiple of 2π with an error of at most an ulp of the result (for |θ| < 4096·2π; an f32 2π would be off by
 * 1.7e-7 per turn), then folded into [−π, π) as Python's floor-mod does: what rounded to ±π_f32 or beyond is
 * folded (so θ = ±π_f32, just outside ±π, gives ∓(π − 8.7e-8) as Gymnasium does). Within an ulp of ±π either
 * sign may come out, which the cost (its square) and cos do not notice.
 */
export function angleNormalizeF32(theta: number): number {
  const x = f(theta);
  const k = roundHalfEven(f(x * INV_TWO_PI_F32));
  const r = reduceF32(x, k);
  if (r >= PI_F32) return reduceF32(x, k + 1);
  if (r <= -PI_F32) return reduceF32(x, k - 1);
  return r;
}

const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/**
 * One step of one env. `s` is [theta, theta_dot] and is overwritten with the new state; returns the reward
 * (−cost of the state before the step). Pendulum never terminates. 'f64' is Gymnasium's float64 step with
 * NumPy 2's float32 action arithmetic; 'f32' rounds every operation to f32 in the kernel's order, with the
 * kernel's reduced angle inside sin (the WGSL sin is only specified on [−π, π]).
 */
export function pendulumStep(s: FloatArray | number[], action: number, p: PendulumParams, precision: Precision): number {
  const maxTorque = f(p.maxTorque);
  const u = clip(f(action), -maxTorque, maxTorque);
  if (precision === 'f64') {
    const th = s[0], thdot = s[1];
    const an = angleNormalize(th);
    const costs = an * an + 0.1 * (thdot * thdot) + f(f(0.001) * f(u * u));
    const gravityCoef = (3 * p.g) / (2 * p.l);
    const torqueCoef = 3.0 / (p.m * (p.l * p.l));
    const newthdot = clip(thdot + (gravityCoef * Math.sin(th) + f(f(torqueCoef) * u)) * p.dt, -p.maxSpeed, p.maxSpeed);
    s[0] = th + newthdot * p.dt;
    s[1] = newthdot;
    return -costs;
  }
  const th = f(s[0]), thdot = f(s[1]);
  const [dt, maxSpeed] = [f(p.dt), f(p.maxSpeed)];
  const gravityCoef = f(f(3 * f(p.g)) / f(2 * f(p.l)));
  const torqueCoef = f(3 / f(f(p.m) * f(f(p.l) * f(p.l))));
  const an = angleNormalizeF32(th);
  const costs = f(f(f(an * an) + f(f(0.1) * f(thdot * thdot))) + f(f(0.001) * f(u * u)));
  const sinTheta = f(Math.sin(an));
  const newthdot = clip(f(thdot + f(f(f(gravityCoef * sinTheta) + f(torqueCoef * u)) * dt)), -maxSpeed, maxSpeed);
  s[0] = f(th + f(newthdot * dt));
  s[1] = newthdot;
  return -costs;
}

/** The observation (cos θ, sin θ, θ̇): float32 as Gymnasium returns it ('f64'), or as the kernel computes it ('f32'). */
export function pendulumObserve(s: ArrayLike<number>, out: FloatArray | number[], precision: Precision): void {
  const theta = precision === 'f64' ? s[0] : angleNormalizeF32(s[0]);
  out[0] = f(Math.cos(theta));
  out[1] = f(Math.sin(theta));
  out[2] = f(s[1]);
}

/**
 * Component `lane` of the reset state of (seed, env, episode): θ U(−π, π), θ̇ U(−1, 1). 'f32' is the GPU's
 * bits: (u − 0.5) is exact and each product rounds once.
 */
export function resetComponent(seed: number, env: number, episode: number, lane: number, precision: Precision): number {
  const u = rngUniform(seed, RNG_STREAM_RESET + lane, env, episode);
  if (lane === 1) return (u - 0.5) * 2;
  return precision === 'f32' ? f((u - 0.5) * TWO_PI_DOWN_F32) : (u - 0.5) * (2 * Math.PI);
}

export function pendulumCpu(p: PendulumParams): CpuEnv {
  return {
    reset(state, seed, env, episode, precision) {
      for (let lane = 0; lane < 2; lane++) state[lane] = resetComponent(seed, env, episode, lane, precision);
    },
    step(state, action, precision, out: CpuStep) {
      out.reward = pendulumStep(state, typeof action === 'number' ? action : action[0], p, precision);
      out.terminated = false;
    },
    observe(state, out, precision) {
      pendulumObserve(state, out, precision);
    },
  };
}

/** The descriptor of Pendulum-v1, with optional overrides of Gymnasium's constants (e.g. `{ g: 9.81 }`). */
export function pendulumSpec(overrides: Partial<PendulumParams> = {}): EnvSpec & { params: PendulumParams } {
  const p = pendulumParams(overrides);
  return {
    id: 'Pendulum-v1',
    module: { stem: 'envs/pendulum' },
    observationSize: 3,
    observationLow: [-1, -1, -p.maxSpeed],
    observationHigh: [1, 1, p.maxSpeed],
    actionSpace: { type: 'Box', low: [-p.maxTorque], high: [p.maxTorque], shape: [1] },
    stateNames: ['theta', 'theta_dot'],
    maxEpisodeSteps: p.maxEpisodeSteps,
    rewardThreshold: null,
    constants: pendulumShaderConstants(p),
    cpu: pendulumCpu(p),
    summary: 'swing a pendulum up and hold it upright with a bounded torque at its pivot (continuous action; never terminates)',
    params: p,
  };
}
