/**
 * The env interface, TypeScript side. An env is one stem: a WGSL module written against
 * shaders/env_interface.wgsl (reset from a counter-RNG key, step, observation), a descriptor (EnvSpec,
 * below) that must agree with it, and a CPU reference (CpuEnv) beside the descriptor, as gymnax keeps one
 * file per env. The vector env (vec-env.ts), the trainer's rollout and the demo's renderer are written
 * against this interface, never against one env; a user's env goes through the same registry.
 */

export type Precision = 'f64' | 'f32';
export type FloatArray = Float32Array | Float64Array;

export interface DiscreteSpace {
  type: 'Discrete';
  n: number;
}

/** A box of continuous actions: `shape` [D], bounds per dimension. The raw action reaches the env, which clips. */
export interface BoxSpace {
  type: 'Box';
  low: number[];
  high: number[];
  shape: [number];
}

export type ActionSpace = DiscreteSpace | BoxSpace;

/** Reward and termination of one CPU step, written by CpuEnv.step (reused: no allocation per step). */
export interface CpuStep {
  reward: number;
  terminated: boolean;
}

/**
 * The hand-written CPU reference of an env. 'f64' is Gymnasium itself (float64 state); 'f32' rounds the
 * way the GPU kernel computes where the env defines it, and otherwise at least keeps the state in f32.
 */
export interface CpuEnv {
  /** Writes the first state of episode `episode` of env `env` (same counter-RNG draws as the WGSL). */
  reset(state: FloatArray, seed: number, env: number, episode: number, precision: Precision): void;
  /** One step in place on `state` (length S, Gymnasium's env.state order); writes reward and terminated into `out`. */
  step(state: FloatArray, action: number | ArrayLike<number>, precision: Precision, out: CpuStep): void;
  /** The observation of `state` into `out` (length O). */
  observe(state: ArrayLike<number>, out: FloatArray, precision: Precision): void;
}

/** Where an env's WGSL comes from: a built-in file under shaders/, or source text (a user's module). */
export type EnvModuleSource = { stem: string } | { code: string; path: string };

export interface EnvSpec {
  /** Gymnasium-style id, e.g. "Acrobot-v1". */
  id: string;
  module: EnvModuleSource;
  /** O: floats in an observation; must equal the module's OBS_SIZE. */
  observationSize: number;
  /** Gymnasium's observation_space bounds (±Infinity where unbounded). */
  observationLow: number[];
  observationHigh: number[];
  actionSpace: ActionSpace;
  /** Names of the S f32 fields of the module's EnvState, in Gymnasium's env.state order. */
  stateNames: string[];
  /** TimeLimit: an episode is truncated when it has taken this many steps. */
  maxEpisodeSteps: number;
  /** Gymnasium's reward_threshold ("solved" when the mean of the last 100 returns reaches it); null: none. */
  rewardThreshold: number | null;
  /** Values of the module's `override` constants, by name. */
  constants: Record<string, number>;
  /** The CPU reference; user envs may have none (no CPU benchmark or parity test then). */
  cpu?: CpuEnv;
  /** One line on what the env is, for listings and the page. */
  summary?: string;
}

/** S: f32 words of the env's internal state. */
export function stateSize(spec: EnvSpec): number {
  return spec.stateNames.length;
}

/** D: floats per action in an actions buffer (1 for Discrete: the index, as u32). */
export function actionDim(spec: EnvSpec): number {
  return spec.actionSpace.type === 'Discrete' ? 1 : spec.actionSpace.shape[0];
}

/** Words of one env slot on the GPU: the state, then elapsed, episode, return, discounted return. */
export function slotWords(spec: EnvSpec): number {
  return stateSize(spec) + 4;
}
