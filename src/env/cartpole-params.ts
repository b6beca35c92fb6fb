/**
 * CartPole constants, exactly as Gymnasium's CartPoleEnv.__init__ and its registrations.
 * One object feeds both the WGSL kernel (as `override` constants) and the CPU reference.
 */
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

/** The WGSL `override` values of shaders/cartpole.wgsl. */
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
    max_episode_steps: p.maxEpisodeSteps,
  };
}
