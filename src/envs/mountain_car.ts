/**
 * MountainCar-v0 and MountainCarContinuous-v0: the descriptors of shaders/envs/mountain_car.wgsl and
 * shaders/envs/mountain_car_continuous.wgsl and their CPU references, written by hand from Gymnasium 1.4's
 * MountainCarEnv and Continuous_MountainCarEnv (never derived from the kernels). They share the hill:
 * velocity += push - gravity·cos(3·position), then the clips and the left wall. Constants exactly as the
 * envs' __init__ and registrations; one object feeds both the WGSL `override`s and the reference.
 *
 * Float semantics. MountainCar-v0 is float64 throughout in Gymnasium. MountainCarContinuous-v0 is not:
 * its step() ends with `self.state = np.array([...], dtype=np.float32)`, and the action is a float32
 * array (the Box's dtype), so NumPy 2's promotion rules (NEP 50: a Python float meeting a float32 scalar
 * is cast to float32) put much of the step in float32. The 'f64' reference reproduces that exactly (every
 * golden row bit for bit); see mountainCarContinuousStep.
 */
import { RNG_STREAM_RESET, rngU32, rngUniform } from '../rng.ts';
import type { CpuEnv, CpuStep, EnvSpec, FloatArray, Precision } from './types.ts';

export interface MountainCarParams {
  minPosition: number;
  maxPosition: number;
  maxSpeed: number;
  goalPosition: number;
  goalVelocity: number;
  /** The push of actions 0 and 2 (MountainCar-v0). */
  force: number;
  /** The hill's pull: velocity -= gravity·cos(3·position). */
  gravity: number;
  /** TimeLimit: an episode is truncated when it has run this many steps. */
  maxEpisodeSteps: number;
  /** Gymnasium's reward_threshold. */
  rewardThreshold: number;
}

export interface MountainCarContinuousParams extends Omit<MountainCarParams, 'force'> {
  minAction: number;
  maxAction: number;
  /** velocity += clip(action)·power. */
  power: number;
}

export const MOUNTAIN_CAR: MountainCarParams = {
  minPosition: -1.2,
  maxPosition: 0.6,
  maxSpeed: 0.07,
  goalPosition: 0.5,
  goalVelocity: 0,
  force: 0.001,
  gravity: 0.0025,
  maxEpisodeSteps: 200,
  rewardThreshold: -110,
};

export const MOUNTAIN_CAR_CONTINUOUS: MountainCarContinuousParams = {
  minAction: -1,
  maxAction: 1,
  minPosition: -1.2,
  maxPosition: 0.6,
  maxSpeed: 0.07,
  goalPosition: 0.45,
  goalVelocity: 0,
  power: 0.0015,
  gravity: 0.0025,
  maxEpisodeSteps: 999,
  rewardThreshold: 90,
};

/** MountainCarContinuous-v0's reward: GOAL_REWARD on reaching the goal, minus ACTION_COST·a² (raw a). */
export const GOAL_REWARD = 100;
export const ACTION_COST = 0.1;

/** Both envs reset the position to U(RESET_LOW, RESET_HIGH), the velocity to 0. */
export const RESET_LOW = -0.6;
export const RESET_HIGH = -0.4;

const identity = (v: number) => v;
const f32 = Math.fround;
/** np.clip and Gymnasium's pairs of `if`s alike: max, then min (WGSL's clamp). */
const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/**
 * One MountainCar-v0 step. `s` is [position, velocity] and is overwritten with the new state; returns
 * `terminated` (the reward is -1 on every step). 'f64' is Gymnasium's float64 arithmetic; 'f32' rounds
 * every operation to f32 in the WGSL's order.
 */
export function mountainCarStep(s: FloatArray | number[], action: number, p: MountainCarParams, precision: Precision): boolean {
  const r = precision === 'f32' ? f32 : identity;
  const [force, gravity, maxSpeed, minPosition, maxPosition] = [r(p.force), r(p.gravity), r(p.maxSpeed), r(p.minPosition), r(p.maxPosition)];
  let position = s[0];
  let velocity = s[1];
  velocity = r(velocity + r(r((action - 1) * force) + r(r(Math.cos(r(3 * position))) * -gravity)));
  velocity = clip(velocity, -maxSpeed, maxSpeed);
  position = clip(r(position + velocity), minPosition, maxPosition);
  if (position === minPosition && velocity < 0) velocity = 0;
  s[0] = position;
  s[1] = velocity;
  return position >= r(p.goalPosition) && velocity >= r(p.goalVelocity);
}

/**
 * The dtype Gymnasium's Continuous_MountainCarEnv holds its state in: float64 from reset() (or when set
 * by hand), float32 after any step(). A CPU state array cannot say which, so the 'f64' reference reads it
 * from the values: a state whose two components are both float32 numbers is taken as one that came out of
 * step(). A float64 position (NumPy's 53-bit uniform, or the 'f64' reset's) is a float32 number with
 * negligible probability, so this is right for Gymnasium's trajectories, for the golden rows (float64
 * states), for CpuVecEnv's 'f64' episodes and for states injected from the GPU.
 */
export function gymnasiumStateDtype(s: ArrayLike<number>): 'float64' | 'float32' {
  return f32(s[0]) === s[0] && f32(s[1]) === s[1] ? 'float32' : 'float64';
}

/**
 * One MountainCarContinuous-v0 step: `s` [position, velocity] is overwritten with the new state; reward
 * and terminated go to `out`. The action is the raw one (clipped for the force only, squared raw in the
 * reward) and is first rounded to f32: Gymnasium's Box and the GPU both hold it as float32.
 *
 * 'f32' is the WGSL, every operation rounded to f32 in its order. 'f64' is Gymnasium itself under
 * NumPy 2, with its state dtype as given (default: gymnasiumStateDtype(s)):
 * - `force = min(max(action[0], -1.0), 1.0)` is the np.float32 action, or the Python float bound when
 *   the action lies strictly outside the box (Python's min/max return the bound only then).
 * - `force * self.power - 0.0025 * math.cos(3 * position)`: with an np.float32 force NEP 50 casts both
 *   Python floats to float32 and evaluates in float32; with a clipped force it is float64.
 * - float64 state: the rest is float64, `terminated` is tested on the float64 position (>= 0.45), and
 *   only the stored state is rounded to float32.
 *   float32 state: `3 * position` is float32 (math.cos and its product with 0.0025 are float64), and the
 *   velocity and position updates, the clips and the goal test are float32 (each Python-float constant
 *   cast to float32 first: the goal is position >= float32(0.45)). Clipped values become the Python
 *   float bounds, which round and compare like their float32 casts for Gymnasium's constants.
 */
export function mountainCarContinuousStep(
  s: FloatArray | number[],
  action: number,
  p: MountainCarContinuousParams,
  precision: Precision,
  out: CpuStep,
  stateDtype: 'float64' | 'float32' = gymnasiumStateDtype(s),
): void {
  const a = f32(action);
  const force = clip(a, p.minAction, p.maxAction);
  const clipped = force !== a;
  let position = s[0];
  let velocity = s[1];
  let terminated: boolean;
  if (precision === 'f32') {
    const [power, gravity, maxSpeed, minPosition] = [f32(p.power), f32(p.gravity), f32(p.maxSpeed), f32(p.minPosition)];
    velocity = f32(velocity + f32(f32(f32(force) * power) - f32(gravity * f32(Math.cos(f32(3 * position))))));
    velocity = clip(velocity, -maxSpeed, maxSpeed);
    position = clip(f32(position + velocity), minPosition, f32(p.maxPosition));
    if (position === minPosition && velocity < 0) velocity = 0;
    terminated = position >= f32(p.goalPosition) && velocity >= f32(p.goalVelocity);
    out.reward = f32(f32(terminated ? GOAL_REWARD : 0) - f32(f32(a * a) * f32(ACTION_COST)));
  } else {
    const float32State = stateDtype === 'float32';
    const hill = p.gravity * Math.cos(float32State ? f32(3 * position) : 3 * position);
    const dv = clipped ? force * p.power - hill : f32(f32(force * f32(p.power)) - f32(hill));
    // Below, `c` is a Python-float constant as it meets the state: cast to float32 for a float32 state.
    const c = float32State ? f32 : identity;
    velocity = c(velocity + c(dv));
    velocity = clip(velocity, -c(p.maxSpeed), c(p.maxSpeed));
    position = clip(c(position + velocity), c(p.minPosition), c(p.maxPosition));
    if (position === c(p.minPosition) && velocity < 0) velocity = 0;
    terminated = position >= c(p.goalPosition) && velocity >= c(p.goalVelocity);
    out.reward = (terminated ? GOAL_REWARD : 0) - a ** 2 * ACTION_COST;
    position = f32(position);
    velocity = f32(velocity);
  }
  s[0] = position;
  s[1] = velocity;
  out.terminated = terminated;
}

/**
 * The reset position of episode `episode` of env `env`: U(-0.6, -0.4) from the counter RNG. 'f32' is
 * the WGSL's (u - 0.5)·0.2 - 0.5 on its 24-bit u, each operation rounded (u - 0.5 is exact; fusing the
 * other two into one fma changes no result). 'f64' is NumPy's uniform(low, high) = low + (high - low)·u
 * on a 53-bit u built as NumPy's random() builds one from two 32-bit draws, the first being the f32 u's:
 * with the 24-bit u alone a fifth of the positions would be float32 numbers, which gymnasiumStateDtype
 * would take for states that came out of step().
 */
export function mountainCarResetPosition(seed: number, env: number, episode: number, precision: Precision): number {
  if (precision === 'f32') return f32(f32((rngUniform(seed, RNG_STREAM_RESET, env, episode) - 0.5) * f32(0.2)) - 0.5);
  const a = rngU32(seed, RNG_STREAM_RESET, env, episode);
  const b = rngU32(seed, RNG_STREAM_RESET + 1, env, episode);
  const u = ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
  return RESET_LOW + (RESET_HIGH - RESET_LOW) * u;
}

const resetState = (state: FloatArray, seed: number, env: number, episode: number, precision: Precision) => {
  state[0] = mountainCarResetPosition(seed, env, episode, precision);
  state[1] = 0;
};

/** Gymnasium's observation is `np.array(self.state, dtype=np.float32)`, in either precision. */
const observe = (state: ArrayLike<number>, out: FloatArray) => {
  out[0] = f32(state[0]);
  out[1] = f32(state[1]);
};

export function mountainCarCpu(p: MountainCarParams): CpuEnv {
  return {
    reset: resetState,
    step(state, action, precision, out: CpuStep) {
      out.terminated = mountainCarStep(state, action as number, p, precision);
      out.reward = -1;
    },
    observe,
  };
}

export function mountainCarContinuousCpu(p: MountainCarContinuousParams): CpuEnv {
  return {
    reset: resetState,
    step(state, action, precision, out: CpuStep) {
      mountainCarContinuousStep(state, typeof action === 'number' ? action : action[0], p, precision, out);
    },
    observe,
  };
}

/** Both envs observe their state: Gymnasium's observation_space is the state box. */
const observationSpace = (p: Pick<MountainCarParams, 'minPosition' | 'maxPosition' | 'maxSpeed'>) => ({
  observationSize: 2,
  observationLow: [p.minPosition, -p.maxSpeed],
  observationHigh: [p.maxPosition, p.maxSpeed],
  stateNames: ['position', 'velocity'],
});

/** The descriptor of MountainCar-v0, with optional overrides of Gymnasium's constants. */
export function mountainCarSpec(overrides: Partial<MountainCarParams> = {}): EnvSpec & { params: MountainCarParams } {
  const p = { ...MOUNTAIN_CAR, ...overrides };
  return {
    id: 'MountainCar-v0',
    module: { stem: 'envs/mountain_car' },
    ...observationSpace(p),
    actionSpace: { type: 'Discrete', n: 3 },
    maxEpisodeSteps: p.maxEpisodeSteps,
    rewardThreshold: p.rewardThreshold,
    constants: {
      min_position: p.minPosition,
      max_position: p.maxPosition,
      max_speed: p.maxSpeed,
      goal_position: p.goalPosition,
      goal_velocity: p.goalVelocity,
      force: p.force,
      gravity: p.gravity,
    },
    cpu: mountainCarCpu(p),
    summary: 'an underpowered car in a valley: rock left and right (Discrete 3) to reach the flag on the right hill (Moore 1990)',
    params: p,
  };
}

/** The descriptor of MountainCarContinuous-v0, with optional overrides of Gymnasium's constants. */
export function mountainCarContinuousSpec(overrides: Partial<MountainCarContinuousParams> = {}): EnvSpec & { params: MountainCarContinuousParams } {
  const p = { ...MOUNTAIN_CAR_CONTINUOUS, ...overrides };
  return {
    id: 'MountainCarContinuous-v0',
    module: { stem: 'envs/mountain_car_continuous' },
    ...observationSpace(p),
    actionSpace: { type: 'Box', low: [p.minAction], high: [p.maxAction], shape: [1] },
    maxEpisodeSteps: p.maxEpisodeSteps,
    rewardThreshold: p.rewardThreshold,
    constants: {
      min_action: p.minAction,
      max_action: p.maxAction,
      min_position: p.minPosition,
      max_position: p.maxPosition,
      max_speed: p.maxSpeed,
      goal_position: p.goalPosition,
      goal_velocity: p.goalVelocity,
      power: p.power,
      gravity: p.gravity,
    },
    cpu: mountainCarContinuousCpu(p),
    summary: 'the mountain car with a continuous force in [-1, 1]: +100 at the flag, minus 0.1·force² every step',
    params: p,
  };
}
