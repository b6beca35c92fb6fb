/**
 * The GPU side of training: buffers, pipelines and the encoding of one update. An update is
 *   COLLECT ROLLOUT   rolloutCollect           T steps × N envs: policy, sampling, env step, values
 *   CALCULATE TARGETS computeAdvantages        returns and advantages per env (backward scan)
 *                     advantageMoments         weight sum, advantage mean/std, explained variance
 *   UPDATE NETWORK    actorCriticBackward      loss gradients, one partial sum per workgroup
 *                     reduceGradients          partial sums → gradients and loss terms
 *                     gradNorm                 global norm, clip scale, non-finite guard
 *                     optimizerStep            Adam or RMSprop
 * all in one compute pass of one command buffer. Nothing here waits for the GPU.
 */
import { initParams } from '../cpu/init.ts';
import { cartPoleParams, cartPoleShaderConstants, type CartPoleParams } from '../envs/cartpole.ts';
import { checkAgentsFit, netShapeOf, PACKED_WEIGHT_ROWS, type TrainConfig } from '../config.ts';

export { netShapeOf };
import { bindGroup, createKernel, createStorageBuffer, createUniformBuffer, dispatch, dispatchGroups, maxElementsForBinding, readBuffer, type Kernel, type KernelSpec } from '../gpu/kernel.ts';
import { paramLayout, type NetShape, type ParamLayout } from '../model/layout.ts';
import type { GpuContext } from '../platform/gpu-context.ts';

/** The passes of one update, in order. */
export const UPDATE_PHASES = ['rollout', 'advantages', 'moments', 'backward', 'reduce', 'norm', 'optimizer', 'pack'] as const;
export type Phase = (typeof UPDATE_PHASES)[number];

export const ALGO_IDS = { a2c: 0, reinforce: 1, qac: 2, tdac: 3 } as const;
export const METRIC_SLOTS = {
  weightSum: 0,
  advantageMean: 1,
  advantageStd: 2,
  explainedVariance: 3,
  policyLoss: 4,
  valueLoss: 5,
  entropy: 6,
  gradNorm: 7,
  nonFinite: 8,
  clipScale: 9,
  firstNonFiniteUpdate: 10,
} as const;
export const NUM_METRICS = 16;
export const STATS_RING = 256;
export const STATS_BYTES = 16 + STATS_RING * 4;
const UNIFORM_BYTES = 96;
/** shaders/network.wgsl's PACKED_VEC4S × 16: the packed weights of H <= 1023 hidden units. */
const PACKED_BYTES = PACKED_WEIGHT_ROWS * 16;
const BACKWARD_CHUNK = 64;
/** From this many envs the rollout steps four envs per invocation (throughput over latency). */
const BATCHED_ROLLOUT_MIN_ENVS = 1024;
/** Workgroups of the backward pass: enough to fill a large GPU, few enough that reducing them is cheap. */
const MAX_BACKWARD_GROUPS = 256;


/** Bytes per rollout row of the largest per-row buffer (observations and values: one vec4 each). */
const BYTES_PER_ROW = 16;

/** The largest N that fits this adapter for T steps and G agents. */
export function maxTrainEnvs(device: GPUDevice, nSteps: number, numAgents = 1): number {
  return Math.floor(maxElementsForBinding(device, BYTES_PER_ROW) / ((nSteps + 1) * numAgents));
}

/**
 * The trainer's four shader modules (stems, bindings, entry points, override constants) for a config:
 * what GpuTrainer compiles, and what test/platform/naga.test.ts compiles under a second WebGPU
 * implementation.
 */
export function trainerKernelSpecs(config: TrainConfig, layout: ParamLayout, envParams: CartPoleParams): Record<KernelName, KernelSpec> {
  const shape = netShapeOf(config);
  const l = layout;
  const trainConstants = {
    hidden_size: config.hidden,
    value_outputs: shape.valueOutputs,
    activation: config.activation === 'tanh' ? 1 : 0,
    algo: ALGO_IDS[config.algo],
    off_actor_w1: l.actorW1.offset,
    off_actor_b1: l.actorB1.offset,
    off_actor_w2: l.actorW2.offset,
    off_actor_b2: l.actorB2.offset,
    off_critic_w1: l.criticW1.offset,
    off_critic_b1: l.criticB1.offset,
    off_critic_w2: l.criticW2.offset,
    off_critic_b2: l.criticB2.offset,
    num_params: layout.total,
    num_agents: config.numAgents,
  };
  const S = 'storage' as const;
  const R = 'read-only-storage' as const;
  return {
    rollout: {
      label: 'rollout',
      stems: ['rng', 'cartpole_dynamics', 'train_params', 'network', 'rollout'],
      bindings: ['uniform', 'uniform', S, S, S, S, S, S],
      entryPoints: ['rolloutCollect', 'rolloutCollect4', 'rolloutReset', 'evaluatePolicy'],
      constants: { ...trainConstants, ...cartPoleShaderConstants(envParams) },
    },
    advantages: {
      label: 'advantages',
      stems: ['train_params', 'advantages'],
      bindings: ['uniform', R, R, S, S],
      entryPoints: ['computeAdvantages', 'advantageMoments'],
      constants: trainConstants,
    },
    backward: {
      label: 'actorCriticBackward',
      stems: ['train_params', 'network', 'actor_critic_backward'],
      bindings: ['uniform', 'uniform', R, R, R, R, R, S, R],
      entryPoints: ['actorCriticBackward'],
      constants: { ...trainConstants, units_per_thread: config.hidden >= 256 ? 4 : 1, shared_trunk: config.sharedTrunk ? 1 : 0 },
    },
    optimizer: {
      label: 'optimizer',
      stems: ['train_params', 'optimizer'],
      bindings: ['uniform', S, S, S, S, R, S, S],
      entryPoints: ['reduceGradients', 'gradNorm', 'optimizerStep', 'packWeights'],
      constants: trainConstants,
    },
  };
}

type KernelName = 'rollout' | 'advantages' | 'backward' | 'optimizer';

function mapKernels<T>(specs: Record<KernelName, KernelSpec>, make: (spec: KernelSpec) => T): Record<KernelName, T> {
  return { rollout: make(specs.rollout), advantages: make(specs.advantages), backward: make(specs.backward), optimizer: make(specs.optimizer) };
}

export class GpuTrainer {
  readonly layout: ParamLayout;
  readonly shape: NetShape;
  readonly envParams: CartPoleParams;
  readonly numRows: number;
  readonly backwardGroups: number;
  readonly buffers: Record<
    'uniform' | 'packed' | 'params' | 'grads' | 'optM' | 'optV' | 'envs' | 'obs' | 'stepInfo' | 'logits' | 'values' | 'targets' | 'partials' | 'metrics' | 'stats',
    GPUBuffer
  >;
  private readonly kernels: Record<'rollout' | 'advantages' | 'backward' | 'optimizer', Kernel>;
  private readonly groups: Record<'rollout' | 'advantages' | 'backward' | 'optimizer', GPUBindGroup>;
  private readonly uniformData = new ArrayBuffer(UNIFORM_BYTES);

  constructor(readonly ctx: GpuContext, readonly config: TrainConfig) {
    const { numEnvs: n, nSteps: t, numAgents: g } = config;
    const maxEnvs = maxTrainEnvs(ctx.device, t, g);
    if (n > maxEnvs) {
      throw new RangeError(
        `--num-envs ${n} with --n-steps ${t}${g > 1 ? ` and --num-agents ${g}` : ''} does not fit this adapter: the rollout needs ${BYTES_PER_ROW} bytes per env, step and agent ` +
          `in one buffer and maxStorageBufferBindingSize is ${ctx.device.limits.maxStorageBufferBindingSize} bytes; the largest --num-envs that fits is ${maxEnvs}`,
      );
    }
    checkAgentsFit(config);
    this.shape = netShapeOf(config);
    this.layout = paramLayout(this.shape);
    this.envParams = cartPoleParams(config.env);
    this.numRows = n * t;
    this.backwardGroups = Math.min(MAX_BACKWARD_GROUPS, Math.ceil(this.numRows / BACKWARD_CHUNK));
    const p = this.layout.total * g;
    const rows = this.numRows * g;
    const storage = (label: string, bytes: number) => createStorageBuffer(ctx, `trainer.${label}`, bytes);
    this.buffers = {
      uniform: createUniformBuffer(ctx, 'trainer.uniform', UNIFORM_BYTES),
      // The weights repacked per hidden unit, read as a uniform buffer (shaders/network.wgsl).
      packed: ctx.device.createBuffer({ label: 'trainer.packed', size: PACKED_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC }),
      params: storage('params', p * 4),
      grads: storage('grads', p * 4),
      optM: storage('optM', p * 4),
      optV: storage('optV', p * 4),
      envs: storage('envs', g * n * 32),
      obs: storage('obs', rows * 16),
      stepInfo: storage('stepInfo', rows * 4),
      logits: storage('logits', rows * 4 * this.shape.numActions),
      values: storage('values', (rows + g * n) * 16),
      targets: storage('targets', rows * 16),
      partials: storage('partials', g * this.backwardGroups * (this.layout.total + 4) * 4),
      metrics: storage('metrics', g * NUM_METRICS * 4),
      stats: storage('stats', g * STATS_BYTES),
    };

    this.kernels = mapKernels(trainerKernelSpecs(config, this.layout, this.envParams), (spec) => createKernel(ctx, spec));
    const b = this.buffers;
    this.groups = {
      rollout: bindGroup(ctx, this.kernels.rollout, 'rollout', [b.uniform, b.packed, b.envs, b.obs, b.stepInfo, b.logits, b.values, b.stats]),
      advantages: bindGroup(ctx, this.kernels.advantages, 'advantages', [b.uniform, b.stepInfo, b.values, b.targets, b.metrics]),
      backward: bindGroup(ctx, this.kernels.backward, 'backward', [b.uniform, b.packed, b.obs, b.stepInfo, b.logits, b.values, b.targets, b.partials, b.metrics]),
      optimizer: bindGroup(ctx, this.kernels.optimizer, 'optimizer', [b.uniform, b.params, b.grads, b.optM, b.optV, b.partials, b.metrics, b.packed]),
    };
  }

  /** Seeded initial parameters (src/cpu/init.ts; agent a from seed + a), zero optimizer state, every env at episode 0. */
  initialize(): Float32Array {
    const { numAgents: g, init, seed } = this.config;
    const p = this.layout.total;
    const params = new Float32Array(g * p);
    for (let a = 0; a < g; a++) initParams(params.subarray(a * p, (a + 1) * p), this.shape, init, (seed + a) >>> 0);
    this.loadState({ params, optM: new Float32Array(g * p), optV: new Float32Array(g * p) });
    const encoder = this.ctx.device.createCommandEncoder({ label: 'trainer.reset' });
    encoder.clearBuffer(this.buffers.metrics);
    encoder.clearBuffer(this.buffers.stats);
    this.writeUniform(0);
    const pass = encoder.beginComputePass({ label: 'rolloutReset' });
    dispatch(pass, this.ctx, this.kernels.rollout, 'rolloutReset', this.groups.rollout, g * this.config.numEnvs);
    pass.end();
    this.ctx.device.queue.submit([encoder.finish()]);
    return params;
  }

  /** Parameters of every agent: G × P. */
  get totalParams(): number {
    return this.config.numAgents * this.layout.total;
  }

  /** Env slots: [G × N × 8] u32, per env the state (4 × f32 bits), steps this episode, episode index, return (f32 bits), 0. */
  loadEnvSlots(slots: Uint32Array): void {
    const envs = this.config.numAgents * this.config.numEnvs;
    if (slots.length !== envs * 8) throw new RangeError(`env slots hold ${slots.length / 8} envs, the trainer has ${envs}`);
    this.ctx.device.queue.writeBuffer(this.buffers.envs, 0, slots as Uint32Array<ArrayBuffer>);
  }

  async readEnvSlots(): Promise<Uint32Array> {
    return new Uint32Array(await readBuffer(this.ctx, this.buffers.envs, this.config.numAgents * this.config.numEnvs * 32));
  }

  /** Parameters and optimizer state from the host; the packed copy of the weights follows. */
  loadState(state: { params: Float32Array; optM: Float32Array; optV: Float32Array }): void {
    const q = this.ctx.device.queue;
    q.writeBuffer(this.buffers.params, 0, state.params as Float32Array<ArrayBuffer>);
    q.writeBuffer(this.buffers.optM, 0, state.optM as Float32Array<ArrayBuffer>);
    q.writeBuffer(this.buffers.optV, 0, state.optV as Float32Array<ArrayBuffer>);
    const encoder = this.ctx.device.createCommandEncoder({ label: 'trainer.pack' });
    this.encodePhases(encoder, ['pack']);
    this.ctx.device.queue.submit([encoder.finish()]);
  }

  /** Learning rate of update `update` (0-based) under the schedule. */
  learningRate(update: number): number {
    const { learningRate, lrSchedule, totalSteps } = this.config;
    if (lrSchedule === 'constant') return learningRate;
    const totalUpdates = Math.max(1, Math.ceil(totalSteps / this.numRows));
    return learningRate * Math.max(0, 1 - update / totalUpdates);
  }

  /** The per-update uniform; optimizer constants precomputed in f64 as PyTorch does. */
  writeUniform(update: number, overrides: { numEnvs?: number; seed?: number; greedy?: boolean } = {}): void {
    const c = this.config;
    const u32 = new Uint32Array(this.uniformData);
    const f32 = new Float32Array(this.uniformData);
    const step = update + 1;
    const lr = this.learningRate(update);
    const adam = c.optimizer === 'adam';
    u32[0] = overrides.numEnvs ?? c.numEnvs;
    u32[1] = c.nSteps;
    u32[2] = (overrides.seed ?? c.seed) >>> 0;
    u32[3] = update >>> 0;
    f32[4] = c.entCoef;
    f32[5] = c.vfCoef;
    f32[6] = c.gamma;
    f32[7] = c.gaeLambda;
    f32[8] = c.maxGradNorm;
    u32[9] = c.normalizeAdvantage ? 1 : 0;
    u32[10] = this.backwardGroups;
    u32[11] = overrides.greedy ? 1 : 0;
    f32[12] = adam ? lr / (1 - c.adamBeta1 ** step) : lr;
    f32[13] = adam ? Math.sqrt(1 - c.adamBeta2 ** step) : 1;
    f32[14] = c.adamBeta1;
    f32[15] = adam ? c.adamBeta2 : c.rmspropAlpha;
    f32[16] = c.optimizerEps;
    u32[17] = adam ? 0 : 1;
    f32[18] = 1 - c.adamBeta1;
    f32[19] = 1 - (adam ? c.adamBeta2 : c.rmspropAlpha);
    this.ctx.device.queue.writeBuffer(this.buffers.uniform, 0, this.uniformData);
  }

  /** Encodes update `update` into `encoder`. The uniform must hold this update's values at submit. */
  encodeUpdate(encoder: GPUCommandEncoder, update: number): void {
    this.encodePhases(encoder, UPDATE_PHASES, `update ${update}`);
  }

  /** Encodes the given phases, in order, into one compute pass (the benchmarks time them one by one). */
  encodePhases(encoder: GPUCommandEncoder, phases: readonly Phase[], label = phases.join('+')): void {
    const { ctx, kernels: k, groups: g } = this;
    const n = this.config.numEnvs;
    const agents = this.config.numAgents;
    const pass = encoder.beginComputePass({ label });
    for (const phase of phases) {
      switch (phase) {
        // COLLECT ROLLOUT
        case 'rollout':
          if (n >= BATCHED_ROLLOUT_MIN_ENVS) dispatch(pass, ctx, k.rollout, 'rolloutCollect4', g.rollout, agents * Math.ceil(n / 4));
          else dispatch(pass, ctx, k.rollout, 'rolloutCollect', g.rollout, agents * n);
          break;
        // CALCULATE TARGETS
        case 'advantages':
          dispatch(pass, ctx, k.advantages, 'computeAdvantages', g.advantages, agents * n);
          break;
        case 'moments':
          dispatchGroups(pass, k.advantages, 'advantageMoments', g.advantages, agents);
          break;
        // UPDATE NETWORK
        case 'backward':
          dispatchGroups(pass, k.backward, 'actorCriticBackward', g.backward, this.backwardGroups, agents);
          break;
        case 'reduce':
          dispatch(pass, ctx, k.optimizer, 'reduceGradients', g.optimizer, agents * (this.layout.total + 3));
          break;
        case 'norm':
          dispatchGroups(pass, k.optimizer, 'gradNorm', g.optimizer, agents);
          break;
        case 'optimizer':
          dispatch(pass, ctx, k.optimizer, 'optimizerStep', g.optimizer, agents * this.layout.total);
          break;
        case 'pack':
          dispatch(pass, ctx, k.optimizer, 'packWeights', g.optimizer, agents * (this.config.hidden + 1));
          break;
      }
    }
    pass.end();
  }

  /** Encodes only the rollout (the policy acts, envs step, episodes are counted): watching a policy. */
  encodeRollout(encoder: GPUCommandEncoder, update: number): void {
    this.encodePhases(encoder, ['rollout'], `rollout ${update}`);
  }

  /**
   * Plays `numEpisodes` fresh episodes per agent with the current policies (one per invocation, seeded
   * apart from training) into `out` rows of (return, length), agent-major. Uses its own bind group over `out`.
   */
  encodeEvaluation(encoder: GPUCommandEncoder, out: GPUBuffer, numEpisodes: number): void {
    const b = this.buffers;
    const group = bindGroup(this.ctx, this.kernels.rollout, 'evaluate', [b.uniform, b.packed, b.envs, b.obs, b.stepInfo, b.logits, out, b.stats]);
    const pass = encoder.beginComputePass({ label: 'evaluatePolicy' });
    dispatch(pass, this.ctx, this.kernels.rollout, 'evaluatePolicy', group, this.config.numAgents * numEpisodes);
    pass.end();
  }

  destroy(): void {
    for (const buffer of Object.values(this.buffers)) buffer.destroy();
  }
}
