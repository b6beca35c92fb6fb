/**
 * CartPole-v0/v1: the descriptor of shaders/envs/cartpole.wgsl and its CPU reference, written by hand from
 * Gymnasium's CartPoleEnv (never derived from the kernel). Constants exactly as CartPoleEnv.__init__ and
 * its registrations; one object feeds both the WGSL `override`s and the reference.
 */
import { RNG_STREAM_RESET, rngUniform } from '../rng.ts';
import type { CpuEnv, CpuStep, EnvSpec, FloatArray, Precision } from './types.ts';

export type Integrator = 'euler' | 'semi-implicit-euler';
export type CartPoleId = 'CartPole-v0' | 'CartPole-v1';

export interface CartPoleParams {
  gravity: number;
  massCart: number;
  massPole: number;
  /** Half the pole's length, as in Gymnasium. */
  length: number;
  forceMag: number;
  tau: number;
  integrator: Integrator;
  thetaThresholdRadians: number;
  xThreshold: number;
  /** TimeLimit: an episode is truncated when it has run this many steps. */
  maxEpisodeSteps: number;
  /** Gymnasium's reward_threshold: "solved" when the mean of the last 100 returns reaches it. */
  rewardThreshold: number;
}

const GYMNASIUM_CARTPOLE = {
  gravity: 9.8,
  massCart: 1.0,
  massPole: 0.1,
  length: 0.5,
  forceMag: 10.0,
  tau: 0.02,
  integrator: 'euler' as Integrator,
  thetaThresholdRadians: (12 * 2 * Math.PI) / 360,
  xThreshold: 2.4,
};

export const CARTPOLE_VERSIONS: Record<CartPoleId, CartPoleParams> = {
  'CartPole-v0': { ...GYMNASIUM_CARTPOLE, maxEpisodeSteps: 200, rewardThreshold: 195 },
  'CartPole-v1': { ...GYMNASIUM_CARTPOLE, maxEpisodeSteps: 500, rewardThreshold: 475 },
};

export function cartPoleParams(id: CartPoleId, overrides: Partial<CartPoleParams> = {}): CartPoleParams {
  const base = CARTPOLE_VERSIONS[id];
  if (!base) throw new Error(`unknown env "${id}" (choose one of: ${Object.keys(CARTPOLE_VERSIONS).join(', ')})`);
  return { ...base, ...overrides };
}

/** Derived constants, computed in f64 like Gymnasium does before anything touches f32. */
export function derivedConstants(p: CartPoleParams) {
  return { totalMass: p.massPole + p.massCart, poleMassLength: p.massPole * p.length };
}

/** The WGSL `override` values of shaders/envs/cartpole.wgsl. */
export function cartPoleShaderConstants(p: CartPoleParams): Record<string, number> {
  const { totalMass, poleMassLength } = derivedConstants(p);
  return {
    gravity: p.gravity,
    mass_pole: p.massPole,
    total_mass: totalMass,
    pole_mass_length: poleMassLength,
    half_length: p.length,
    force_mag: p.forceMag,
    tau: p.tau,
    semi_implicit: p.integrator === 'semi-implicit-euler' ? 1 : 0,
    theta_threshold: p.thetaThresholdRadians,
    x_threshold: p.xThreshold,
  };
}

const identity = (v: number) => v;

/**
 * One step of one env. `s` is [x, xDot, theta, thetaDot] and is overwritten with the new state.
 * Returns `terminated`, evaluated on the new state with strict comparisons as Gymnasium does. 'f32'
 * rounds every intermediate to f32 the way NumPy 2 does for a float32 state: what the WGSL computes.
 */
export function cartpoleStep(s: FloatArray | number[], action: number, p: CartPoleParams, precision: Precision): boolean {
  const r = precision === 'f32' ? Math.fround : identity;
  const { totalMass, poleMassLength } = derivedConstants(p);
  const [tm, pml, mp, len, g, tau] = [r(totalMass), r(poleMassLength), r(p.massPole), r(p.length), r(p.gravity), r(p.tau)];
  let x = s[0], xDot = s[1], theta = s[2], thetaDot = s[3];
  const force = action === 1 ? r(p.forceMag) : -r(p.forceMag);
  const cosTheta = r(Math.cos(theta));
  const sinTheta = r(Math.sin(theta));
  const temp = r(r(force + r(r(pml * r(thetaDot * thetaDot)) * sinTheta)) / tm);
  const thetaAcc = r(
    r(r(g * sinTheta) - r(cosTheta * temp)) /
      r(len * r(r(4.0 / 3.0) - r(r(mp * r(cosTheta * cosTheta)) / tm))),
  );
  const xAcc = r(temp - r(r(r(pml * thetaAcc) * cosTheta) / tm));
  if (p.integrator === 'euler') {
    x = r(x + r(tau * xDot));
    xDot = r(xDot + r(tau * xAcc));
    theta = r(theta + r(tau * thetaDot));
    thetaDot = r(thetaDot + r(tau * thetaAcc));
  } else {
    xDot = r(xDot + r(tau * xAcc));
    x = r(x + r(tau * xDot));
    thetaDot = r(thetaDot + r(tau * thetaAcc));
    theta = r(theta + r(tau * thetaDot));
  }
  s[0] = x; s[1] = xDot; s[2] = theta; s[3] = thetaDot;
  const xT = r(p.xThreshold), thT = r(p.thetaThresholdRadians);
  return x < -xT || x > xT || theta < -thT || theta > thT;
}

/** Component `lane` of the reset state of (seed, env, episode): U(-0.05, 0.05), same bits as the GPU. */
export function resetComponent(seed: number, env: number, episode: number, lane: number, precision: Precision): number {
  const u = rngUniform(seed, RNG_STREAM_RESET + lane, env, episode);
  return precision === 'f32' ? Math.fround(Math.fround(u - 0.5) * Math.fround(0.1)) : (u - 0.5) * 0.1;
}

export function cartPoleCpu(p: CartPoleParams): CpuEnv {
  return {
    reset(state, seed, env, episode, precision) {
      for (let lane = 0; lane < 4; lane++) state[lane] = resetComponent(seed, env, episode, lane, precision);
    },
    step(state, action, precision, out: CpuStep) {
      out.terminated = cartpoleStep(state, action as number, p, precision);
      out.reward = 1;
    },
    observe(state, out) {
      for (let k = 0; k < 4; k++) out[k] = state[k];
    },
  };
}

/** The descriptor of a CartPole version, with optional overrides of Gymnasium's constants. */
export function cartPoleSpec(id: CartPoleId, overrides: Partial<CartPoleParams> = {}): EnvSpec & { params: CartPoleParams } {
  const p = cartPoleParams(id, overrides);
  return {
    id,
    module: { stem: 'envs/cartpole' },
    observationSize: 4,
    observationLow: [-2 * p.xThreshold, -Infinity, -2 * p.thetaThresholdRadians, -Infinity],
    observationHigh: [2 * p.xThreshold, Infinity, 2 * p.thetaThresholdRadians, Infinity],
    actionSpace: { type: 'Discrete', n: 2 },
    stateNames: ['x', 'x_dot', 'theta', 'theta_dot'],
    maxEpisodeSteps: p.maxEpisodeSteps,
    rewardThreshold: p.rewardThreshold,
    constants: cartPoleShaderConstants(p),
    cpu: cartPoleCpu(p),
    summary: 'a pole on a cart: push left or right to keep it upright (Barto, Sutton & Anderson 1983)',
    params: p,
  };
}
