/**
 * CPU reference of the vector env (shaders/vec_env.wgsl) over any env's CPU reference: N envs with
 * same-step autoreset, the time limit, and episode counters, exactly the GPU's semantics.
 */
import { cartPoleSpec, type CartPoleParams } from './cartpole.ts';
import { envSpec } from './registry.ts';
import { actionDim, stateSize, type CpuEnv, type CpuStep, type EnvSpec, type Precision } from './types.ts';

export interface CpuStepResult {
  /** Row-major [N, O]: the observation after the step, already reset where the episode ended. */
  obs: Float64Array | Float32Array;
  rewards: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Row-major [N, O]: the observation of the stepped state before any reset. */
  finalObs: Float64Array | Float32Array;
}

export class CpuVecEnv {
  readonly spec: EnvSpec;
  readonly cpu: CpuEnv;
  /** Row-major [N, S]: each env's internal state. */
  readonly states: Float64Array | Float32Array;
  readonly elapsed: Uint32Array;
  readonly episode: Uint32Array;
  readonly episodeReturn: Float64Array;
  /** Returns and lengths of finished episodes, in order of completion. */
  finishedReturns: number[] = [];
  finishedLengths: number[] = [];
  private seed = 0;
  /** Reused by every step(): the result of a step is valid until the next one. */
  private readonly result: CpuStepResult;
  private readonly out: CpuStep = { reward: 0, terminated: false };
  private readonly scratch: Float64Array | Float32Array;
  private readonly scratchObs: Float64Array | Float32Array;
  private readonly scratchAction: Float64Array;
  private readonly S: number;
  private readonly O: number;
  private readonly D: number;

  constructor(readonly numEnvs: number, env: EnvSpec | string, readonly precision: Precision = 'f32') {
    this.spec = typeof env === 'string' ? envSpec(env) : env;
    if (!this.spec.cpu) throw new Error(`env "${this.spec.id}" has no CPU reference`);
    this.cpu = this.spec.cpu;
    this.S = stateSize(this.spec);
    this.O = this.spec.observationSize;
    this.D = actionDim(this.spec);
    const Arr = precision === 'f32' ? Float32Array : Float64Array;
    this.states = new Arr(numEnvs * this.S);
    this.scratch = new Arr(this.S);
    this.scratchObs = new Arr(this.O);
    this.scratchAction = new Float64Array(this.D);
    this.result = {
      obs: new Arr(numEnvs * this.O),
      rewards: new Float64Array(numEnvs),
      terminated: new Uint8Array(numEnvs),
      truncated: new Uint8Array(numEnvs),
      finalObs: new Arr(numEnvs * this.O),
    };
    this.elapsed = new Uint32Array(numEnvs);
    this.episode = new Uint32Array(numEnvs);
    this.episodeReturn = new Float64Array(numEnvs);
  }

  /** Starts episode 0 of every env; returns a copy of the [N, O] observations. */
  reset(seed: number): Float64Array | Float32Array {
    this.seed = seed >>> 0;
    for (let i = 0; i < this.numEnvs; i++) {
      this.episode[i] = 0;
      this.resetEnv(i);
      this.cpu.observe(this.stateOf(i), this.result.obs.subarray(i * this.O, (i + 1) * this.O), this.precision);
    }
    this.finishedReturns = [];
    this.finishedLengths = [];
    return this.result.obs.slice();
  }

  private stateOf(i: number) {
    return this.states.subarray(i * this.S, (i + 1) * this.S);
  }

  private resetEnv(i: number) {
    this.cpu.reset(this.stateOf(i), this.seed, i, this.episode[i], this.precision);
    this.elapsed[i] = 0;
    this.episodeReturn[i] = 0;
  }

  /** Steps every env (Discrete: one index each; Box: [N × D] floats); the result arrays are reused. */
  step(actions: ArrayLike<number>): CpuStepResult {
    const { obs, finalObs, rewards, terminated, truncated } = this.result;
    const { out, scratch: s, scratchObs: o, scratchAction: a, S, O, D } = this;
    const box = this.spec.actionSpace.type === 'Box';
    for (let i = 0; i < this.numEnvs; i++) {
      // Through scratch arrays: a subarray per env and step would dominate the reference's time.
      for (let k = 0; k < S; k++) s[k] = this.states[i * S + k];
      if (box) for (let k = 0; k < D; k++) a[k] = actions[i * D + k];
      const action = box ? a : actions[i];
      this.cpu.step(s, action, this.precision, out);
      for (let k = 0; k < S; k++) this.states[i * S + k] = s[k];
      this.cpu.observe(s, o, this.precision);
      for (let k = 0; k < O; k++) finalObs[i * O + k] = o[k];
      rewards[i] = out.reward;
      this.elapsed[i] += 1;
      this.episodeReturn[i] += out.reward;
      const trunc = this.elapsed[i] >= this.spec.maxEpisodeSteps;
      terminated[i] = out.terminated ? 1 : 0;
      truncated[i] = trunc ? 1 : 0;
      if (out.terminated || trunc) {
        this.finishedReturns.push(this.episodeReturn[i]);
        this.finishedLengths.push(this.elapsed[i]);
        this.episode[i] += 1;
        this.resetEnv(i);
        this.cpu.observe(this.stateOf(i), o, this.precision);
      }
      for (let k = 0; k < O; k++) obs[i * O + k] = o[k];
    }
    return this.result;
  }
}

/** The CartPole case of CpuVecEnv, for any CartPole constants (e.g. an integrator or thresholds of one's own). */
export class CpuCartPoleVecEnv extends CpuVecEnv {
  constructor(numEnvs: number, readonly params: CartPoleParams, precision: Precision = 'f32') {
    super(numEnvs, cartPoleSpec('CartPole-v1', params), precision);
  }
}
