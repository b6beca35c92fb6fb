/**
 * A Gymnasium-like vector env over shaders/cartpole.wgsl: N CartPoles on the GPU with same-step
 * autoreset. Each call here submits and reads back, so it is for scripts, tests and inspection;
 * the trainer encodes the same kernel into its own command buffers without any readback.
 */
import { bindGroup, createKernel, createStorageBuffer, createUniformBuffer, dispatch, maxElementsForBinding, readBuffer, type Kernel, type KernelSpec } from '../gpu/kernel.ts';
import type { GpuContext } from '../platform/gpu-context.ts';
import { cartPoleParams, cartPoleShaderConstants, type CartPoleId, type CartPoleParams } from './cartpole-params.ts';

/** Bytes per env of the largest per-env buffer (states, counters, final observations: one vec4 each). */
const BYTES_PER_ENV = 16;
const STATS_RING = 256;
const STATS_BYTES = 16 + STATS_RING * 4;

export interface CartPoleVecEnvOptions {
  numEnvs: number;
  env?: CartPoleId;
  /** Overrides of Gymnasium's constants, e.g. `{ integrator: 'semi-implicit-euler' }`. */
  params?: Partial<CartPoleParams>;
}

export interface VecStepResult {
  /** [N, 4] observations after the step; where an episode ended, already the next episode's reset state. */
  obs: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** [N, 4] the stepped state before any reset: the final observation where terminated or truncated. */
  finalObs: Float32Array;
}

export interface EnvStates {
  /** [N, 4] x, x_dot, theta, theta_dot */
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
  /** Returns of up to 256 of those episodes (all of them when no more than 256 finished). */
  recentReturns: Float32Array;
}

export function maxNumEnvs(device: GPUDevice): number {
  return maxElementsForBinding(device, BYTES_PER_ENV);
}

export function checkNumEnvs(device: GPUDevice, numEnvs: number): void {
  if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new RangeError(`numEnvs must be a positive integer, got ${numEnvs}`);
  const max = maxNumEnvs(device);
  if (numEnvs > max) {
    throw new RangeError(
      `numEnvs ${numEnvs} does not fit this adapter: each env needs ${BYTES_PER_ENV} bytes in one storage buffer and ` +
        `maxStorageBufferBindingSize is ${device.limits.maxStorageBufferBindingSize} bytes; the largest numEnvs that fits is ${max}`,
    );
  }
}

export function cartPoleKernelSpec(params: CartPoleParams): KernelSpec {
  return {
    label: 'cartpole',
    stems: ['rng', 'cartpole_dynamics', 'cartpole'],
    bindings: ['uniform', 'storage', 'storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage'],
    entryPoints: ['cartpoleReset', 'cartpoleStep', 'cartpoleRandomRollout'],
    constants: cartPoleShaderConstants(params),
  };
}

export class CartPoleVecEnv {
  readonly params: CartPoleParams;
  readonly buffers: Record<'params' | 'states' | 'counters' | 'actions' | 'rewards' | 'dones' | 'finalObs' | 'stats', GPUBuffer>;
  private readonly kernel: Kernel;
  private readonly group: GPUBindGroup;
  private readonly uniform = new Uint32Array(4);
  private stepCounter = 0;

  constructor(readonly ctx: GpuContext, readonly numEnvs: number, options: CartPoleVecEnvOptions) {
    checkNumEnvs(ctx.device, numEnvs);
    this.params = cartPoleParams(options.env ?? 'CartPole-v1', options.params);
    this.kernel = createKernel(ctx, cartPoleKernelSpec(this.params));
    const n = numEnvs;
    this.buffers = {
      params: createUniformBuffer(ctx, 'cartpole.params', 16),
      states: createStorageBuffer(ctx, 'cartpole.states', n * 16),
      counters: createStorageBuffer(ctx, 'cartpole.counters', n * 16),
      actions: createStorageBuffer(ctx, 'cartpole.actions', n * 4),
      rewards: createStorageBuffer(ctx, 'cartpole.rewards', n * 4),
      dones: createStorageBuffer(ctx, 'cartpole.dones', n * 4),
      finalObs: createStorageBuffer(ctx, 'cartpole.finalObs', n * 16),
      stats: createStorageBuffer(ctx, 'cartpole.stats', STATS_BYTES),
    };
    const b = this.buffers;
    this.group = bindGroup(ctx, this.kernel, 'cartpole', [b.params, b.states, b.counters, b.actions, b.rewards, b.dones, b.finalObs, b.stats]);
    this.uniform[0] = n;
  }

  static create(ctx: GpuContext, options: CartPoleVecEnvOptions): CartPoleVecEnv {
    return new CartPoleVecEnv(ctx, options.numEnvs, options);
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

  /** Starts episode 0 of every env from the seeded reset distribution; returns the [N, 4] observations. */
  async reset(seed: number): Promise<Float32Array> {
    this.uniform[1] = seed >>> 0;
    this.stepCounter = 0;
    this.run('cartpoleReset', 0, (encoder) => encoder.clearBuffer(this.buffers.stats));
    return new Float32Array(await readBuffer(this.ctx, this.buffers.states, this.numEnvs * 16));
  }

  async step(actions: ArrayLike<number>): Promise<VecStepResult> {
    if (actions.length !== this.numEnvs) throw new RangeError(`step() needs ${this.numEnvs} actions, got ${actions.length}`);
    const a = Uint32Array.from(actions, (v) => (v === 1 ? 1 : v === 0 ? 0 : Number.NaN));
    if (a.some((v) => v !== 0 && v !== 1)) throw new RangeError('CartPole actions must be 0 or 1');
    this.ctx.device.queue.writeBuffer(this.buffers.actions, 0, a);
    this.run('cartpoleStep');
    this.stepCounter += 1;
    const n = this.numEnvs;
    const [obs, rewards, dones, finalObs] = await Promise.all([
      readBuffer(this.ctx, this.buffers.states, n * 16),
      readBuffer(this.ctx, this.buffers.rewards, n * 4),
      readBuffer(this.ctx, this.buffers.dones, n * 4),
      readBuffer(this.ctx, this.buffers.finalObs, n * 16),
    ]);
    const bits = new Uint32Array(dones);
    return {
      obs: new Float32Array(obs),
      rewards: new Float32Array(rewards),
      terminated: Uint8Array.from(bits, (d) => d & 1),
      truncated: Uint8Array.from(bits, (d) => (d >> 1) & 1),
      finalObs: new Float32Array(finalObs),
    };
  }

  /** Steps every env `numSteps` times under a uniform random policy in one dispatch (no readback). */
  randomRollout(numSteps: number): void {
    this.run('cartpoleRandomRollout', numSteps);
    this.stepCounter += numSteps;
  }

  /** Encodes `numSteps` steps with the current actions buffer in one submit, without readback (benchmarks). */
  encodeSteps(numSteps: number): void {
    this.writeUniform(1);
    const encoder = this.ctx.device.createCommandEncoder({ label: 'cartpoleStep x' + numSteps });
    const pass = encoder.beginComputePass();
    for (let i = 0; i < numSteps; i++) dispatch(pass, this.ctx, this.kernel, 'cartpoleStep', this.group, this.numEnvs);
    pass.end();
    this.ctx.device.queue.submit([encoder.finish()]);
    this.stepCounter += numSteps;
  }

  /** Overwrites raw states (and optionally the per-episode counters), e.g. to test from chosen states. */
  setStates(states: Float32Array, counters: Partial<Omit<EnvStates, 'states'>> = {}): void {
    if (states.length !== this.numEnvs * 4) throw new RangeError(`setStates() needs ${this.numEnvs * 4} floats, got ${states.length}`);
    this.ctx.device.queue.writeBuffer(this.buffers.states, 0, states as Float32Array<ArrayBuffer>);
    const raw = new ArrayBuffer(this.numEnvs * 16);
    const u32 = new Uint32Array(raw);
    const f32 = new Float32Array(raw);
    for (let i = 0; i < this.numEnvs; i++) {
      u32[i * 4] = counters.elapsed?.[i] ?? 0;
      u32[i * 4 + 1] = counters.episode?.[i] ?? 0;
      f32[i * 4 + 2] = counters.episodeReturn?.[i] ?? 0;
    }
    this.ctx.device.queue.writeBuffer(this.buffers.counters, 0, raw);
  }

  async getStates(): Promise<EnvStates> {
    const [states, counters] = await Promise.all([
      readBuffer(this.ctx, this.buffers.states, this.numEnvs * 16),
      readBuffer(this.ctx, this.buffers.counters, this.numEnvs * 16),
    ]);
    const u32 = new Uint32Array(counters);
    const f32 = new Float32Array(counters);
    const pick = <T extends Uint32Array | Float32Array>(src: T, lane: number, out: T) => {
      for (let i = 0; i < this.numEnvs; i++) out[i] = src[i * 4 + lane];
      return out;
    };
    return {
      states: new Float32Array(states),
      elapsed: pick(u32, 0, new Uint32Array(this.numEnvs)),
      episode: pick(u32, 1, new Uint32Array(this.numEnvs)),
      episodeReturn: pick(f32, 2, new Float32Array(this.numEnvs)),
    };
  }

  /** Reads and clears the episode statistics accumulated on the GPU since the last call. */
  async readStats(): Promise<EpisodeStats> {
    const raw = await readBuffer(this.ctx, this.buffers.stats, STATS_BYTES);
    const encoder = this.ctx.device.createCommandEncoder();
    encoder.clearBuffer(this.buffers.stats);
    this.ctx.device.queue.submit([encoder.finish()]);
    const head = new Uint32Array(raw, 0, 4);
    const finished = head[0];
    return { finished, lengthSum: head[1], recentReturns: new Float32Array(raw, 16, Math.min(finished, STATS_RING)).slice() };
  }

  destroy(): void {
    for (const buffer of Object.values(this.buffers)) buffer.destroy();
  }
}
