/**
 * A Gymnasium-like vector env over any env module (shaders/vec_env.wgsl + the env's WGSL): N envs on the
 * GPU with same-step autoreset. Each call submits and reads back, so it is for scripts, tests and
 * inspection; the trainer steps the same env module inside its own rollout kernel without any readback.
 */
import { bindGroup, createKernel, createStorageBuffer, createUniformBuffer, dispatch, maxElementsForBinding, readBuffer, type Kernel, type KernelSpec, type ShaderPart } from '../gpu/kernel.ts';
import type { GpuContext } from '../platform/gpu-context.ts';
import { cartPoleSpec, type CartPoleId, type CartPoleParams } from './cartpole.ts';
import { envSpec } from './registry.ts';
import { actionDim, slotWords, stateSize, type EnvSpec } from './types.ts';

const STATS_RING = 256;
const STATS_BYTES = 16 + STATS_RING * 4;

export interface VecEnvOptions {
  /** An env id from the registry (built-in or registered), or a descriptor. */
  env: string | EnvSpec;
  numEnvs: number;
}

export interface VecStepResult {
  /** [N, O] observations after the step; where an episode ended, already the next episode's first. */
  obs: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** [N, O] the observation of the stepped state before any reset: the final observation where done. */
  finalObs: Float32Array;
}

export interface EnvStates {
  /** [N, S] each env's internal state in Gymnasium's env.state order. */
  states: Float32Array;
  /** Steps taken in the current episode. */
  elapsed: Uint32Array;
  /** Episodes finished by each env since reset (keys its next reset state). */
  episode: Uint32Array;
  episodeReturn: Float32Array;
}

export interface EpisodeStats {
  /** Episodes finished since the last readStats(). */
  finished: number;
  lengthSum: number;
  /**
   * Returns of up to 256 of those episodes (all of them when no more than 256 finished by step();
   * after randomRollout(), the last episode of each env, up to 256 of them).
   */
  recentReturns: Float32Array;
}

/** The WGSL of an env: its file under shaders/, or a user's source text labelled with its path. */
export function envModulePart(spec: EnvSpec): ShaderPart {
  return 'stem' in spec.module ? spec.module.stem : { label: spec.module.path, code: spec.module.code };
}

/** The override constants every kernel around an env module sets: the env's own and its time limit. */
export function envConstants(spec: EnvSpec): Record<string, number> {
  return { ...spec.constants, max_episode_steps: spec.maxEpisodeSteps };
}

/** Bytes per env of the largest per-env buffer (the slots, or the vec4-padded observations). */
function bytesPerEnv(spec: EnvSpec): number {
  return Math.max(slotWords(spec) * 4, Math.ceil(spec.observationSize / 4) * 16, actionDim(spec) * 4);
}

export function maxNumEnvs(device: GPUDevice, spec: EnvSpec | string = 'CartPole-v1'): number {
  return maxElementsForBinding(device, bytesPerEnv(typeof spec === 'string' ? envSpec(spec) : spec));
}

export function checkNumEnvs(device: GPUDevice, numEnvs: number, spec: EnvSpec): void {
  if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new RangeError(`numEnvs must be a positive integer, got ${numEnvs}`);
  const max = maxNumEnvs(device, spec);
  if (numEnvs > max) {
    throw new RangeError(
      `numEnvs ${numEnvs} does not fit this adapter: each ${spec.id} env needs ${bytesPerEnv(spec)} bytes in one storage buffer and ` +
        `maxStorageBufferBindingSize is ${device.limits.maxStorageBufferBindingSize} bytes; the largest numEnvs that fits is ${max}`,
    );
  }
}

export function vecEnvKernelSpec(spec: EnvSpec): KernelSpec {
  return {
    label: `vec_env ${spec.id}`,
    stems: [envModulePart(spec), 'rng', 'env_interface', 'vec_env'],
    bindings: ['uniform', 'storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage', 'storage'],
    entryPoints: ['envReset', 'envStep', 'envRandomRollout'],
    constants: envConstants(spec),
  };
}

export class VecEnv {
  readonly spec: EnvSpec;
  /** O, S, D: observation floats, state words, action floats per env. */
  readonly obsSize: number;
  readonly stateSize: number;
  readonly actionDim: number;
  /** OV: vec4s per observation on the GPU (zero-padded). */
  readonly obsVec4s: number;
  readonly buffers: Record<'params' | 'slots' | 'actions' | 'obs' | 'rewards' | 'dones' | 'finalObs' | 'stats', GPUBuffer>;
  private readonly kernel: Kernel;
  private readonly group: GPUBindGroup;
  private readonly uniform = new Uint32Array(4);
  private stepCounter = 0;

  constructor(readonly ctx: GpuContext, readonly numEnvs: number, spec: EnvSpec) {
    checkNumEnvs(ctx.device, numEnvs, spec);
    this.spec = spec;
    this.obsSize = spec.observationSize;
    this.stateSize = stateSize(spec);
    this.actionDim = actionDim(spec);
    this.obsVec4s = Math.ceil(this.obsSize / 4);
    this.kernel = createKernel(ctx, vecEnvKernelSpec(spec));
    const n = numEnvs;
    const label = (name: string) => `${spec.id}.${name}`;
    this.buffers = {
      params: createUniformBuffer(ctx, label('params'), 16),
      slots: createStorageBuffer(ctx, label('slots'), n * slotWords(spec) * 4),
      actions: createStorageBuffer(ctx, label('actions'), n * this.actionDim * 4),
      obs: createStorageBuffer(ctx, label('obs'), n * this.obsVec4s * 16),
      rewards: createStorageBuffer(ctx, label('rewards'), n * 4),
      dones: createStorageBuffer(ctx, label('dones'), n * 4),
      finalObs: createStorageBuffer(ctx, label('finalObs'), n * this.obsVec4s * 16),
      stats: createStorageBuffer(ctx, label('stats'), STATS_BYTES),
    };
    const b = this.buffers;
    this.group = bindGroup(ctx, this.kernel, spec.id, [b.params, b.slots, b.actions, b.obs, b.rewards, b.dones, b.finalObs, b.stats]);
    this.uniform[0] = n;
  }

  private writeUniform(numSteps: number) {
    this.uniform[2] = numSteps;
    this.uniform[3] = this.stepCounter >>> 0;
    this.ctx.device.queue.writeBuffer(this.buffers.params, 0, this.uniform);
  }

  private run(entryPoint: string, numSteps = 1, encode?: (encoder: GPUCommandEncoder) => void) {
    this.writeUniform(numSteps);
    const encoder = this.ctx.device.createCommandEncoder({ label: entryPoint });
    const pass = encoder.beginComputePass({ label: entryPoint });
    dispatch(pass, this.ctx, this.kernel, entryPoint, this.group, this.numEnvs);
    pass.end();
    encode?.(encoder);
    this.ctx.device.queue.submit([encoder.finish()]);
  }

  /** Starts episode 0 of every env from the seeded reset distribution; returns the [N, O] observations. */
  async reset(seed: number): Promise<Float32Array> {
    this.uniform[1] = seed >>> 0;
    this.stepCounter = 0;
    this.run('envReset', 0, (encoder) => encoder.clearBuffer(this.buffers.stats));
    return this.unpad(new Float32Array(await readBuffer(this.ctx, this.buffers.obs, this.numEnvs * this.obsVec4s * 16)));
  }

  /** One step of every env: Discrete, one index per env (Uint32Array); Box, [N × D] floats (Float32Array). */
  async step(actions: ArrayLike<number>): Promise<VecStepResult> {
    this.ctx.device.queue.writeBuffer(this.buffers.actions, 0, this.checkActions(actions));
    this.run('envStep');
    this.stepCounter += 1;
    const n = this.numEnvs;
    const obsBytes = n * this.obsVec4s * 16;
    const [resetObs, rewards, dones, finalObs] = await Promise.all([
      readBuffer(this.ctx, this.buffers.obs, obsBytes),
      readBuffer(this.ctx, this.buffers.rewards, n * 4),
      readBuffer(this.ctx, this.buffers.dones, n * 4),
      readBuffer(this.ctx, this.buffers.finalObs, obsBytes),
    ]);
    const bits = new Uint32Array(dones);
    // The kernel writes `obs` only where an episode ended; elsewhere the observation is the final one.
    const final = this.unpad(new Float32Array(finalObs));
    const obs = final.slice();
    const fresh = this.unpad(new Float32Array(resetObs));
    const O = this.obsSize;
    for (let i = 0; i < n; i++) if (bits[i] !== 0) obs.set(fresh.subarray(i * O, (i + 1) * O), i * O);
    return {
      obs,
      rewards: new Float32Array(rewards),
      terminated: Uint8Array.from(bits, (d) => d & 1),
      truncated: Uint8Array.from(bits, (d) => (d >> 1) & 1),
      finalObs: final,
    };
  }

  /** [N × OV × 4] zero-padded observations to [N × O]. */
  private unpad(padded: Float32Array): Float32Array {
    const O = this.obsSize;
    const stride = this.obsVec4s * 4;
    if (stride === O) return padded;
    const out = new Float32Array(this.numEnvs * O);
    for (let i = 0; i < this.numEnvs; i++) out.set(padded.subarray(i * stride, i * stride + O), i * O);
    return out;
  }

  private checkActions(actions: ArrayLike<number>): Uint32Array<ArrayBuffer> | Float32Array<ArrayBuffer> {
    const space = this.spec.actionSpace;
    const expected = this.numEnvs * this.actionDim;
    if (actions.length !== expected) {
      throw new RangeError(`step() needs ${expected} ${space.type === 'Discrete' ? 'actions' : `floats (${this.numEnvs} envs × ${this.actionDim})`}, got ${actions.length}`);
    }
    if (space.type === 'Discrete') {
      const a = new Uint32Array(expected);
      for (let i = 0; i < expected; i++) {
        const v = actions[i];
        if (!Number.isInteger(v) || v < 0 || v >= space.n) throw new RangeError(`${this.spec.id} actions must be integers in [0, ${space.n}); action ${i} is ${v}`);
        a[i] = v;
      }
      return a;
    }
    const a = Float32Array.from(actions);
    const bad = a.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RangeError(`${this.spec.id} actions must be finite; element ${bad} is ${a[bad]}`);
    return a;
  }

  /** Steps every env `numSteps` times under a uniform random policy in one dispatch (no readback). */
  randomRollout(numSteps: number): void {
    this.run('envRandomRollout', numSteps);
    this.stepCounter += numSteps;
  }

  /** Encodes `numSteps` steps with the current actions buffer in one submit, without readback (benchmarks). */
  encodeSteps(numSteps: number): void {
    this.writeUniform(1);
    const encoder = this.ctx.device.createCommandEncoder({ label: `envStep x${numSteps}` });
    const pass = encoder.beginComputePass();
    for (let i = 0; i < numSteps; i++) dispatch(pass, this.ctx, this.kernel, 'envStep', this.group, this.numEnvs);
    pass.end();
    this.ctx.device.queue.submit([encoder.finish()]);
    this.stepCounter += numSteps;
  }

  /**
   * Overwrites every env's internal state ([N × S], Gymnasium's env.state order; f64 is rounded to the
   * GPU's f32) and optionally its episode counters, e.g. to test from chosen states.
   */
  setStates(states: ArrayLike<number>, counters: Partial<Omit<EnvStates, 'states'>> = {}): void {
    const S = this.stateSize;
    const W = S + 4;
    if (states.length !== this.numEnvs * S) throw new RangeError(`setStates() needs ${this.numEnvs * S} floats (${this.numEnvs} envs × ${S}), got ${states.length}`);
    const raw = new ArrayBuffer(this.numEnvs * W * 4);
    const u32 = new Uint32Array(raw);
    const f32 = new Float32Array(raw);
    for (let i = 0; i < this.numEnvs; i++) {
      for (let k = 0; k < S; k++) f32[i * W + k] = states[i * S + k];
      u32[i * W + S] = counters.elapsed?.[i] ?? 0;
      u32[i * W + S + 1] = counters.episode?.[i] ?? 0;
      f32[i * W + S + 2] = counters.episodeReturn?.[i] ?? 0;
    }
    this.ctx.device.queue.writeBuffer(this.buffers.slots, 0, raw);
  }

  async getStates(): Promise<EnvStates> {
    const S = this.stateSize;
    const W = S + 4;
    const raw = await readBuffer(this.ctx, this.buffers.slots, this.numEnvs * W * 4);
    const u32 = new Uint32Array(raw);
    const f32 = new Float32Array(raw);
    const out: EnvStates = {
      states: new Float32Array(this.numEnvs * S),
      elapsed: new Uint32Array(this.numEnvs),
      episode: new Uint32Array(this.numEnvs),
      episodeReturn: new Float32Array(this.numEnvs),
    };
    for (let i = 0; i < this.numEnvs; i++) {
      out.states.set(f32.subarray(i * W, i * W + S), i * S);
      out.elapsed[i] = u32[i * W + S];
      out.episode[i] = u32[i * W + S + 1];
      out.episodeReturn[i] = f32[i * W + S + 2];
    }
    return out;
  }

  /** Reads and clears the episode statistics accumulated on the GPU since the last call. */
  async readStats(): Promise<EpisodeStats> {
    const raw = await readBuffer(this.ctx, this.buffers.stats, STATS_BYTES);
    const encoder = this.ctx.device.createCommandEncoder();
    encoder.clearBuffer(this.buffers.stats);
    this.ctx.device.queue.submit([encoder.finish()]);
    const head = new Uint32Array(raw, 0, 4);
    // head[2]: returns written to the ring (envRandomRollout writes one per invocation, not per episode).
    return { finished: head[0], lengthSum: head[1], recentReturns: new Float32Array(raw, 16, Math.min(head[2], STATS_RING)).slice() };
  }

  destroy(): void {
    for (const buffer of Object.values(this.buffers)) buffer.destroy();
  }
}

/** `makeVecEnv(ctx, { env: 'Acrobot-v1', numEnvs: 1024 })`: N envs of any registered env on the GPU. */
export function makeVecEnv(ctx: GpuContext, options: VecEnvOptions): VecEnv {
  const spec = typeof options.env === 'string' ? envSpec(options.env) : options.env;
  return new VecEnv(ctx, options.numEnvs, spec);
}

export interface CartPoleVecEnvOptions {
  numEnvs: number;
  env?: CartPoleId;
  /** Overrides of Gymnasium's constants, e.g. `{ integrator: 'semi-implicit-euler' }`. */
  params?: Partial<CartPoleParams>;
}

/** The CartPole case of VecEnv, with Gymnasium's constants open to overrides. */
export class CartPoleVecEnv extends VecEnv {
  readonly params: CartPoleParams;

  constructor(ctx: GpuContext, numEnvs: number, options: CartPoleVecEnvOptions) {
    const spec = cartPoleSpec(options.env ?? 'CartPole-v1', options.params);
    super(ctx, numEnvs, spec);
    this.params = spec.params;
  }

  static create(ctx: GpuContext, options: CartPoleVecEnvOptions): CartPoleVecEnv {
    return new CartPoleVecEnv(ctx, options.numEnvs, options);
  }
}
