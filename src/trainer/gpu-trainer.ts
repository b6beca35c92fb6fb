/**
 * The GPU side of training: buffers, pipelines and the encoding of one update. An update is
 *   COLLECT ROLLOUT   rolloutCollect           T steps × N envs: policy, sampling, env step, values
 *   CALCULATE TARGETS computeAdvantages        returns and advantages per env (backward scan)
 *                     advantageMoments         weight sum, advantage mean/std, explained variance
 *   UPDATE NETWORK    actorCriticBackward      loss gradients, one partial sum per workgroup
 *                     reduceGradients          partial sums → gradients and loss terms
 *                     gradNorm                 global norm, clip scale, non-finite guard
 *                     optimizerStep            Adam or RMSprop
 *                     packWeights              the weights repacked for the next forward passes
 *   NORMALIZE         normalizerUpdate         running observation / return statistics (when asked)
 * all in one compute pass of one command buffer. Nothing here waits for the GPU. Every kernel is written
 * against the env interface (shaders/env_interface.wgsl): the env's module is the first part of each.
 */
import { initParams } from '../cpu/init.ts';
import { agentConfig, agentSeed, checkAgentsFit, checkPpo, checkTrainable, packedFits, netShapeOf, packedLayout, PACKED_WEIGHT_ROWS, type TrainConfig } from '../config.ts';
import { learningRateAt } from '../cpu/update.ts';
import { envSpec } from '../envs/registry.ts';
import { slotWords, type EnvSpec } from '../envs/types.ts';
import { envConstants, envModulePart } from '../envs/vec-env.ts';

export { netShapeOf, fusedApplies };
import { bindGroup, createKernel, createStorageBuffer, createUniformBuffer, dispatch, dispatchGroups, maxElementsForBinding, readBuffer, type Kernel, type KernelSpec } from '../gpu/kernel.ts';
import { actorHiddenOf, criticHiddenOf, fusedApplies, paramLayout, type NetShape, type ParamLayout } from '../model/layout.ts';
import type { GpuContext } from '../platform/gpu-context.ts';
import { LayeredNetwork, layeredRowCapacity } from './layered.ts';
import type { LinearTiles } from '../ops/linear.ts';

/** The passes of one update, in order ('normalize' runs only when a normalization is on). */
export const UPDATE_PHASES = ['rollout', 'advantages', 'moments', 'backward', 'reduce', 'norm', 'optimizer', 'pack', 'normalize'] as const;
export type Phase = (typeof UPDATE_PHASES)[number];

export const ALGO_IDS = { a2c: 0, reinforce: 1, qac: 2, tdac: 3, ppo: 4 } as const;
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
  approxKl: 11,
  clipFractionSum: 12,
  minibatches: 13,
  epochs: 14,
  klStopped: 15,
  adamSteps: 16,
} as const;
export const NUM_METRICS = 24;
export const STATS_RING = 256;
export const STATS_BYTES = 16 + STATS_RING * 4;
const UNIFORM_BYTES = 48;
/** train_params.wgsl AgentParams: 16 words per agent, MAX_AGENTS of them in one 64 KiB uniform buffer. */
const AGENT_PARAM_WORDS = 16;
export const MAX_AGENTS = 1024;
/** shaders/network.wgsl's PACKED_VEC4S × 16: the packed weights of every agent. */
const PACKED_BYTES = PACKED_WEIGHT_ROWS * 16;
/** RunningMeanStd's initial count (its epsilon): the running statistics start at mean 0, variance 1. */
export const NORM_INITIAL_COUNT = 1e-4;
const BACKWARD_CHUNK = 64;
/** From this many envs the rollout steps four envs per invocation (throughput over latency). */
const BATCHED_ROLLOUT_MIN_ENVS = 1024;
/** Workgroups of the backward pass: enough to fill a large GPU, few enough that reducing them is cheap. */
const MAX_BACKWARD_GROUPS = 256;


/**
 * Bytes per rollout row of the largest per-row buffer: the observations (OV vec4s), the values (one vec4),
 * or the layered path's row data (a final observation, and a Box action).
 */
function bytesPerRow(spec: EnvSpec): number {
  const box = spec.actionSpace.type === 'Box' ? spec.actionSpace.shape[0] : 0;
  return Math.max(16 * Math.max(1, Math.ceil(spec.observationSize / 4)), 4 * (spec.observationSize + box));
}

/**
 * 'fused': the one-layer kernels (rollout.wgsl, actor_critic_backward.wgsl), fastest where they apply;
 * 'layered': any depth and either head, layer by layer (src/trainer/layered.ts).
 */
export type NetworkPath = 'fused' | 'layered';


/** The largest N that fits this adapter for T steps and G agents on an env (default CartPole-v1). */
export function maxTrainEnvs(device: GPUDevice, nSteps: number, numAgents = 1, env: string | EnvSpec = 'CartPole-v1'): number {
  const spec = typeof env === 'string' ? envSpec(env) : env;
  return Math.floor(maxElementsForBinding(device, bytesPerRow(spec)) / ((nSteps + 1) * numAgents));
}

/**
 * Why this config's network does not fit the adapter's buffers (its parameters, or the layered path's
 * activations of one row), naming the widest `--net-arch` of the same depths that fits; null when it fits.
 */
export function networkFitProblem(device: GPUDevice, config: TrainConfig, spec: EnvSpec = envSpec(config.env)): string | null {
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const fits = (shape: NetShape) => {
    const layout = paramLayout(shape);
    if (config.numAgents * layout.total * 4 > limit) return false;
    return fusedApplies(shape) || layeredRowCapacity(device, shape, layout, config.numAgents, 1) >= 1;
  };
  const shape = netShapeOf(config, spec);
  if (fits(shape)) return null;
  const pi = actorHiddenOf(shape);
  const vf = criticHiddenOf(shape);
  const uniform = (w: number): NetShape => ({ ...shape, hiddenSize: w, actorHidden: pi.map(() => w), criticHidden: vf.map(() => w) });
  let lo = 0;
  let hi = Math.max(...pi, ...vf);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(uniform(mid))) lo = mid;
    else hi = mid - 1;
  }
  const P = paramLayout(shape).total;
  const arch = (w: number) => (pi.length === vf.length ? pi.map(() => w).join(',') : `pi=${pi.map(() => w).join(',')}/vf=${vf.map(() => w).join(',')}`);
  return (
    `the network (${P} parameters per agent${config.numAgents > 1 ? `, ${config.numAgents} agents` : ''}) does not fit this adapter's buffers (maxStorageBufferBindingSize ${limit} bytes); ` +
    (lo >= 1 ? `the widest that fits at this depth is --net-arch ${arch(lo)}` : 'not even one unit per layer fits')
  );
}

/** The override constants of train_params.wgsl that every trainer kernel shares (network shape, offsets, flags). */
export function trainConstantsOf(config: TrainConfig, layout: ParamLayout, spec: EnvSpec): Record<string, number> {
  const shape = netShapeOf(config, spec);
  const packing = packedLayout(shape);
  const l = layout;
  return {
    hidden_size: shape.hiddenSize,
    num_actions: shape.numActions,
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
    normalize_obs: config.normalizeObservations ? 1 : 0,
    normalize_reward: config.normalizeRewards ? 1 : 0,
    unit_vec4s: packing.unitVec4s,
    actor_rows: packing.actorRows,
    critic_rows: packing.criticRows,
  };
}

/**
 * The trainer's shader modules (stems, bindings, entry points, override constants) for a config: what
 * GpuTrainer compiles (the layered path only advantages, optimizer and normalize of these), and what
 * test/platform/naga.test.ts compiles under a second WebGPU implementation.
 */
export function trainerKernelSpecs(config: TrainConfig, layout: ParamLayout, spec: EnvSpec): Record<KernelName, KernelSpec> {
  const shape = netShapeOf(config, spec);
  const trainConstants = trainConstantsOf(config, layout, spec);
  // Every module starts with the env's (its compiler messages keep their line numbers), then the interface.
  const envParts = [envModulePart(spec), 'rng', 'env_interface'];
  const S = 'storage' as const;
  const R = 'read-only-storage' as const;
  return {
    rollout: {
      label: 'rollout',
      stems: [...envParts, 'train_params', 'normalize_apply', 'policy', 'network', 'rollout'],
      bindings: ['uniform', 'uniform', S, S, S, S, S, S, R, 'uniform'],
      entryPoints: ['rolloutCollect', 'rolloutCollect4', 'rolloutReset', 'evaluatePolicy'],
      constants: { ...trainConstants, ...envConstants(spec) },
    },
    advantages: {
      label: 'advantages',
      stems: [...envParts, 'train_params', 'advantages'],
      bindings: ['uniform', R, R, S, S, 'uniform'],
      entryPoints: ['computeAdvantages', 'advantageMoments'],
      constants: trainConstants,
    },
    backward: {
      label: 'actorCriticBackward',
      stems: [...envParts, 'train_params', 'normalize_apply', 'policy', 'network', 'actor_critic_backward'],
      bindings: ['uniform', 'uniform', R, R, R, R, R, S, R, R, 'uniform'],
      entryPoints: ['actorCriticBackward'],
      constants: { ...trainConstants, units_per_thread: shape.hiddenSize >= 256 ? 4 : 1, shared_trunk: config.sharedTrunk ? 1 : 0 },
    },
    optimizer: {
      label: 'optimizer',
      stems: [...envParts, 'train_params', 'optimizer'],
      bindings: ['uniform', S, S, S, S, R, S, S, 'uniform'],
      entryPoints: ['reduceGradients', 'gradNorm', 'optimizerStep', 'packWeights'],
      constants: trainConstants,
    },
    normalize: {
      label: 'normalize',
      stems: [...envParts, 'train_params', 'normalize'],
      bindings: ['uniform', R, R, S],
      entryPoints: ['normalizerUpdate'],
      constants: trainConstants,
    },
  };
}

type KernelName = 'rollout' | 'advantages' | 'backward' | 'optimizer' | 'normalize';

/** The kernels each path compiles (the layered path brings its own rollout and backward). */
const PATH_KERNELS: Record<NetworkPath, KernelName[]> = {
  fused: ['rollout', 'advantages', 'backward', 'optimizer', 'normalize'],
  layered: ['advantages', 'optimizer', 'normalize'],
};

/** One agent's running statistics as the GPU holds them (train_params.wgsl norm_stride): floats per agent. */
export function normStatsFloats(spec: EnvSpec): number {
  return (2 * Math.ceil(spec.observationSize / 4) + 1) * 4;
}

/**
 * The running-statistics merge of update `update` (0-based) over B rows, in f64: the count before it is
 * NORM_INITIAL_COUNT + update·B, so w_new = B / (count + B) and w_old = count / (count + B).
 */
export function normMergeWeights(rows: number, update: number): { weightNew: number; weightOld: number } {
  const count = NORM_INITIAL_COUNT + update * rows;
  return { weightNew: rows / (count + rows), weightOld: count / (count + rows) };
}

export class GpuTrainer {
  readonly layout: ParamLayout;
  readonly shape: NetShape;
  readonly env: EnvSpec;
  readonly numRows: number;
  readonly backwardGroups: number;
  /** Which kernels run the network (fusedApplies decides unless a test or benchmark forces one). */
  readonly path: NetworkPath;
  /** PPO: several optimizer steps per update, scheduled by the layered path. */
  readonly ppo: boolean;
  /** The layered path's scheduler; null on the fused path. */
  readonly layered: LayeredNetwork | null;
  /** Words of one env slot (the env's state, then its counters). */
  readonly slotWords: number;
  readonly buffers: Record<
    'uniform' | 'agents' | 'packed' | 'params' | 'grads' | 'optM' | 'optV' | 'envs' | 'obs' | 'stepInfo' | 'logits' | 'values' | 'targets' | 'partials' | 'metrics' | 'stats' | 'norm',
    GPUBuffer
  >;
  private readonly kernels: Partial<Record<KernelName, Kernel>>;
  private readonly groups: Partial<Record<KernelName, GPUBindGroup>>;
  private readonly uniformData = new ArrayBuffer(UNIFORM_BYTES);
  private readonly agentData: ArrayBuffer;

  /** `path` forces a network path, `maxRows` the layered path's rows per call (tests and benchmarks). */
  constructor(readonly ctx: GpuContext, readonly config: TrainConfig, options: { path?: NetworkPath; maxRows?: number; tiles?: LinearTiles } = {}) {
    const { numEnvs: n, nSteps: t, numAgents: g } = config;
    this.env = envSpec(config.env);
    const maxEnvs = maxTrainEnvs(ctx.device, t, g, this.env);
    if (n > maxEnvs) {
      throw new RangeError(
        `--num-envs ${n} with --n-steps ${t}${g > 1 ? ` and --num-agents ${g}` : ''} does not fit this adapter: the rollout needs ${bytesPerRow(this.env)} bytes per ${config.env} env, step and agent ` +
          `in one buffer and maxStorageBufferBindingSize is ${ctx.device.limits.maxStorageBufferBindingSize} bytes; the largest --num-envs that fits is ${maxEnvs}`,
      );
    }
    checkTrainable(config, this.env);
    const tooBig = networkFitProblem(ctx.device, config, this.env);
    if (tooBig) throw new RangeError(tooBig);
    this.shape = netShapeOf(config, this.env);
    this.layout = paramLayout(this.shape);
    checkPpo(config);
    // The fused kernels where they apply and their packed weights fit; the layered path for the rest (and PPO).
    this.ppo = config.algo === 'ppo';
    this.path = options.path ?? (fusedApplies(this.shape) && packedFits(config) && !this.ppo ? 'fused' : 'layered');
    if (this.path === 'fused') {
      if (!fusedApplies(this.shape)) throw new RangeError('the fused kernels train one hidden layer of equal width and a categorical head; this network takes the layered path');
      if (this.ppo) throw new RangeError('PPO runs on the layered path (its minibatch epochs are not fused)');
      checkAgentsFit(config);
    }
    const fused = this.path === 'fused';
    this.slotWords = slotWords(this.env);
    this.numRows = n * t;
    this.agentData = new ArrayBuffer(g * AGENT_PARAM_WORDS * 4);
    this.backwardGroups = fused ? Math.min(MAX_BACKWARD_GROUPS, Math.ceil(this.numRows / BACKWARD_CHUNK)) : 1;
    const p = this.layout.total * g;
    const rows = this.numRows * g;
    const storage = (label: string, bytes: number) => createStorageBuffer(ctx, `trainer.${label}`, bytes);
    this.buffers = {
      uniform: createUniformBuffer(ctx, 'trainer.uniform', UNIFORM_BYTES),
      // Bound as array<AgentParams, MAX_AGENTS>: the binding holds all of it, whatever G is.
      agents: createUniformBuffer(ctx, 'trainer.agents', MAX_AGENTS * AGENT_PARAM_WORDS * 4),
      // The weights repacked per hidden unit, read as a uniform buffer (shaders/network.wgsl).
      // (The layered path reads the flat params; it binds a 16-byte stand-in.)
      packed: ctx.device.createBuffer({ label: 'trainer.packed', size: fused ? PACKED_BYTES : 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC }),
      params: storage('params', p * 4),
      grads: storage('grads', p * 4),
      optM: storage('optM', p * 4),
      optV: storage('optV', p * 4),
      envs: storage('envs', g * n * this.slotWords * 4),
      obs: storage('obs', rows * bytesPerRow(this.env)),
      stepInfo: storage('stepInfo', rows * 4),
      logits: storage('logits', rows * 4 * this.shape.numActions),
      values: storage('values', (rows + g * n) * 16),
      targets: storage('targets', rows * 16),
      partials: storage('partials', fused ? g * this.backwardGroups * (this.layout.total + 4) * 4 : 16),
      metrics: storage('metrics', g * NUM_METRICS * 4),
      stats: storage('stats', g * STATS_BYTES),
      norm: storage('norm', g * normStatsFloats(this.env) * 4),
    };

    const specs = trainerKernelSpecs(config, this.layout, this.env);
    this.kernels = Object.fromEntries(PATH_KERNELS[this.path].map((name) => [name, createKernel(ctx, specs[name])]));
    const b = this.buffers;
    const groupBuffers: Record<KernelName, GPUBuffer[]> = {
      rollout: [b.uniform, b.packed, b.envs, b.obs, b.stepInfo, b.logits, b.values, b.stats, b.norm, b.agents],
      advantages: [b.uniform, b.stepInfo, b.values, b.targets, b.metrics, b.agents],
      backward: [b.uniform, b.packed, b.obs, b.stepInfo, b.logits, b.values, b.targets, b.partials, b.metrics, b.norm, b.agents],
      optimizer: [b.uniform, b.params, b.grads, b.optM, b.optV, b.partials, b.metrics, b.packed, b.agents],
      normalize: [b.uniform, b.obs, b.values, b.norm],
    };
    this.groups = Object.fromEntries(PATH_KERNELS[this.path].map((name) => [name, bindGroup(ctx, this.kernels[name]!, name, groupBuffers[name])]));
    this.layered = fused ? null : new LayeredNetwork(ctx, config, this.shape, this.layout, this.env, b, this.slotWords, trainConstantsOf(config, this.layout, this.env), options.maxRows, options.tiles);
  }

  /** Whether any running statistics are kept (the 'normalize' phase runs). */
  get normalizes(): boolean {
    return this.config.normalizeObservations || this.config.normalizeRewards;
  }

  /** Fresh running statistics of every agent: mean 0, variance 1 (RunningMeanStd's start). */
  initialNormStats(): Float32Array {
    const per = normStatsFloats(this.env);
    const ov = Math.ceil(this.env.observationSize / 4);
    const stats = new Float32Array(this.config.numAgents * per);
    for (let a = 0; a < this.config.numAgents; a++) {
      stats.fill(1, a * per + ov * 4, a * per + 2 * ov * 4);
      stats[a * per + 2 * ov * 4 + 1] = 1;
    }
    return stats;
  }

  /** Running statistics [G × (2·OV + 1) × 4] f32 (layout of train_params.wgsl), e.g. from a checkpoint. */
  loadNormStats(stats: Float32Array): void {
    const expected = this.config.numAgents * normStatsFloats(this.env);
    if (stats.length !== expected) throw new RangeError(`normalizer statistics hold ${stats.length} floats, the trainer needs ${expected}`);
    this.ctx.device.queue.writeBuffer(this.buffers.norm, 0, stats as Float32Array<ArrayBuffer>);
  }

  async readNormStats(): Promise<Float32Array> {
    return new Float32Array(await readBuffer(this.ctx, this.buffers.norm, this.config.numAgents * normStatsFloats(this.env) * 4));
  }

  /** Seeded initial parameters (src/cpu/init.ts; agent a from its seed), zero optimizer state, every env at episode 0. */
  initialize(): Float32Array {
    const { numAgents: g, init } = this.config;
    const p = this.layout.total;
    const params = new Float32Array(g * p);
    for (let a = 0; a < g; a++) initParams(params.subarray(a * p, (a + 1) * p), this.shape, init, agentSeed(this.config, a), this.config.logStdInit);
    this.loadState({ params, optM: new Float32Array(g * p), optV: new Float32Array(g * p) });
    this.loadNormStats(this.initialNormStats());
    const encoder = this.ctx.device.createCommandEncoder({ label: 'trainer.reset' });
    encoder.clearBuffer(this.buffers.metrics);
    encoder.clearBuffer(this.buffers.stats);
    this.writeUniform(0);
    const pass = encoder.beginComputePass({ label: 'rolloutReset' });
    if (this.layered) this.layered.encodeReset(pass);
    else dispatch(pass, this.ctx, this.kernels.rollout!, 'rolloutReset', this.groups.rollout!, g * this.config.numEnvs);
    pass.end();
    this.ctx.device.queue.submit([encoder.finish()]);
    return params;
  }

  /** Parameters of every agent: G × P. */
  get totalParams(): number {
    return this.config.numAgents * this.layout.total;
  }

  /**
   * Env slots: [G × N × (S + 4)] u32, per env its state (S × f32 bits, Gymnasium's env.state order), steps
   * this episode, episode index, return (f32 bits), discounted return (f32 bits; reward normalization).
   */
  loadEnvSlots(slots: Uint32Array): void {
    const envs = this.config.numAgents * this.config.numEnvs;
    if (slots.length !== envs * this.slotWords) throw new RangeError(`env slots hold ${slots.length / this.slotWords} envs, the trainer has ${envs}`);
    this.ctx.device.queue.writeBuffer(this.buffers.envs, 0, slots as Uint32Array<ArrayBuffer>);
  }

  async readEnvSlots(): Promise<Uint32Array> {
    return new Uint32Array(await readBuffer(this.ctx, this.buffers.envs, this.config.numAgents * this.config.numEnvs * this.slotWords * 4));
  }

  /** Parameters and optimizer state from the host; the packed copy of the weights follows. */
  loadState(state: { params: Float32Array; optM: Float32Array; optV: Float32Array; adamSteps?: Float32Array }): void {
    const q = this.ctx.device.queue;
    state.adamSteps?.forEach((steps, agent) => q.writeBuffer(this.buffers.metrics, (agent * NUM_METRICS + METRIC_SLOTS.adamSteps) * 4, new Float32Array([steps])));
    q.writeBuffer(this.buffers.params, 0, state.params as Float32Array<ArrayBuffer>);
    q.writeBuffer(this.buffers.optM, 0, state.optM as Float32Array<ArrayBuffer>);
    q.writeBuffer(this.buffers.optV, 0, state.optV as Float32Array<ArrayBuffer>);
    const encoder = this.ctx.device.createCommandEncoder({ label: 'trainer.pack' });
    this.encodePhases(encoder, ['pack']);
    this.ctx.device.queue.submit([encoder.finish()]);
  }

  /** PPO: each agent's Adam step count (optimizer.wgsl keeps it in the metrics). */
  async readAdamSteps(): Promise<Float32Array> {
    const metrics = new Float32Array(await readBuffer(this.ctx, this.buffers.metrics, this.config.numAgents * NUM_METRICS * 4));
    return Float32Array.from({ length: this.config.numAgents }, (_, a) => metrics[a * NUM_METRICS + METRIC_SLOTS.adamSteps]);
  }

  /** Agent a's learning rate at update `update` (0-based) under its schedule. */
  learningRate(update: number, agent = 0): number {
    return learningRateAt(agentConfig(this.config, agent), this.numRows, update);
  }

  /**
   * The per-update uniforms: what all agents share, and each agent's settings (train_params.wgsl
   * AgentParams), optimizer constants precomputed in f64 as PyTorch does. Evaluation passes `seeds`: the
   * seed of each agent's evaluation episodes.
   */
  writeUniform(update: number, overrides: { numEnvs?: number; seeds?: number[]; greedy?: boolean } = {}): void {
    const c = this.config;
    const u32 = new Uint32Array(this.uniformData);
    const f32 = new Float32Array(this.uniformData);
    const adam = c.optimizer === 'adam';
    u32[0] = overrides.numEnvs ?? c.numEnvs;
    u32[1] = c.nSteps;
    u32[3] = update >>> 0;
    u32[4] = this.backwardGroups;
    u32[5] = overrides.greedy ? 1 : 0;
    u32[6] = adam ? 0 : 1;
    const { weightNew, weightOld } = normMergeWeights(this.numRows, update);
    f32[8] = weightNew;
    f32[9] = weightOld;
    this.ctx.device.queue.writeBuffer(this.buffers.uniform, 0, this.uniformData);

    const step = update + 1;
    const au32 = new Uint32Array(this.agentData);
    const af32 = new Float32Array(this.agentData);
    for (let a = 0; a < c.numAgents; a++) {
      const h = agentConfig(c, a);
      const lr = learningRateAt(h, this.numRows, update);
      const o = a * AGENT_PARAM_WORDS;
      au32[o] = (overrides.seeds?.[a] ?? h.seed) >>> 0;
      au32[o + 1] = h.normalizeAdvantage ? 1 : 0;
      af32[o + 2] = h.entCoef;
      af32[o + 3] = h.vfCoef;
      af32[o + 4] = h.gamma;
      af32[o + 5] = h.gaeLambda;
      af32[o + 6] = h.maxGradNorm;
      // PPO's Adam counts its steps on the GPU (optimizer.wgsl gradNorm): the step size is lr there.
      af32[o + 7] = adam && !this.ppo ? lr / (1 - h.adamBeta1 ** step) : lr;
      af32[o + 8] = adam && !this.ppo ? Math.sqrt(1 - h.adamBeta2 ** step) : 1;
      af32[o + 9] = adam ? h.adamBeta2 : h.rmspropAlpha;
      af32[o + 10] = h.optimizerEps;
      af32[o + 11] = 1 - h.adamBeta1;
      af32[o + 12] = 1 - (adam ? h.adamBeta2 : h.rmspropAlpha);
      af32[o + 13] = h.clipCoef;
      af32[o + 14] = h.targetKl ?? 0;
    }
    this.ctx.device.queue.writeBuffer(this.buffers.agents, 0, this.agentData, 0, c.numAgents * AGENT_PARAM_WORDS * 4);
  }

  /** Encodes update `update` into `encoder`. The uniform must hold this update's values at submit. */
  encodeUpdate(encoder: GPUCommandEncoder, update: number): void {
    this.encodePhases(encoder, UPDATE_PHASES, `update ${update}`);
  }

  /** Encodes the given phases, in order, into one compute pass (the benchmarks time them one by one). */
  encodePhases(encoder: GPUCommandEncoder, phases: readonly Phase[], label = phases.join('+')): void {
    const { ctx, layered } = this;
    const k = this.kernels as Record<KernelName, Kernel>;
    const g = this.groups as Record<KernelName, GPUBindGroup>;
    const n = this.config.numEnvs;
    const agents = this.config.numAgents;
    const pass = encoder.beginComputePass({ label });
    for (const phase of phases) {
      switch (phase) {
        // COLLECT ROLLOUT
        case 'rollout':
          if (layered) layered.encodeRollout(pass);
          else if (n >= BATCHED_ROLLOUT_MIN_ENVS) dispatch(pass, ctx, k.rollout, 'rolloutCollect4', g.rollout, agents * Math.ceil(n / 4));
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
          // PPO: every epoch, minibatch and optimizer step of the update (the three phases below are in it).
          if (this.ppo) layered!.encodePpoUpdate(pass, () => this.encodeOptimizerStep(pass));
          else if (layered) layered.encodeGradients(pass);
          else dispatchGroups(pass, k.backward, 'actorCriticBackward', g.backward, this.backwardGroups, agents);
          break;
        case 'reduce':
          if (this.ppo) break;
          if (layered) layered.encodeFinishLosses(pass);
          else dispatch(pass, ctx, k.optimizer, 'reduceGradients', g.optimizer, agents * (this.layout.total + 3));
          break;
        case 'norm':
          if (!this.ppo) dispatchGroups(pass, k.optimizer, 'gradNorm', g.optimizer, agents);
          break;
        case 'optimizer':
          if (!this.ppo) dispatch(pass, ctx, k.optimizer, 'optimizerStep', g.optimizer, agents * this.layout.total);
          break;
        case 'pack':
          // The layered path reads the weights where the optimizer leaves them.
          if (!layered) dispatch(pass, ctx, k.optimizer, 'packWeights', g.optimizer, agents * (this.shape.hiddenSize + 1));
          break;
        // NORMALIZE
        case 'normalize':
          if (this.normalizes) dispatchGroups(pass, k.normalize, 'normalizerUpdate', g.normalize, agents);
          break;
      }
    }
    pass.end();
  }

  /** Global-norm clipping, the non-finite guard and one optimizer step of every agent. */
  private encodeOptimizerStep(pass: GPUComputePassEncoder): void {
    const k = this.kernels as Record<KernelName, Kernel>;
    const g = this.groups as Record<KernelName, GPUBindGroup>;
    dispatchGroups(pass, k.optimizer, 'gradNorm', g.optimizer, this.config.numAgents);
    dispatch(pass, this.ctx, k.optimizer, 'optimizerStep', g.optimizer, this.config.numAgents * this.layout.total);
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
    if (this.layered) return this.layered.encodeEvaluation(encoder, out, numEpisodes);
    const b = this.buffers;
    const rollout = this.kernels.rollout!;
    const group = bindGroup(this.ctx, rollout, 'evaluate', [b.uniform, b.packed, b.envs, b.obs, b.stepInfo, b.logits, out, b.stats, b.norm, b.agents]);
    const pass = encoder.beginComputePass({ label: 'evaluatePolicy' });
    dispatch(pass, this.ctx, rollout, 'evaluatePolicy', group, this.config.numAgents * numEpisodes);
    pass.end();
  }

  destroy(): void {
    this.layered?.destroy();
    for (const buffer of Object.values(this.buffers)) buffer.destroy();
  }
}
