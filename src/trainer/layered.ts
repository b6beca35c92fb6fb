/**
 * The layered path: networks of any depth and either policy head, scheduled layer by layer with
 * linear.wgsl (src/ops/linear.ts) between small kernels that observe, act, take the loss and sum it.
 * GpuTrainer runs it for every network the fused one-layer kernels do not cover; the advantages, the
 * optimizer and the running statistics are shared with the fused path. One update:
 *
 *   COLLECT ROLLOUT   for t = 0 … T−1, for each chunk of envs:
 *                       observeEnvs → actor layers → critic layers → rolloutAct (sample, step, record)
 *                     s_T:  observeEnvs → layers → rolloutLast
 *                     for each chunk of final observations (at most ⌈T / max steps⌉ per env):
 *                       prepareFinal → layers → rolloutBootstrap (the bootstraps of truncated episodes)
 *                     normalizeRewards (VecNormalize's reward scaling, when on)
 *   UPDATE NETWORK    for each chunk of rows:
 *                       prepareRows → actor and critic forward (activations kept) → policyLoss, valueLoss
 *                       → sumRows → backward through the heads and down the layers (weight gradients
 *                       overwritten by the first chunk, added by the others)
 *                     finishLosses (loss metrics, a Gaussian policy's log_std gradient)
 *
 * Activations are [G × R × width] agent-major (R rows per agent of the current call). The rows of one
 * call are bounded by a memory budget: a rollout step of many envs runs in chunks of envs, the update in
 * chunks of rows. Every per-dispatch parameter (step, chunk) is a record of one buffer written once and
 * bound at a dynamic offset. Nothing here waits for the GPU.
 */
import { netShapeOf, type TrainConfig } from '../config.ts';
import type { EnvSpec } from '../envs/types.ts';
import { envConstants, envModulePart } from '../envs/vec-env.ts';
import { bindGroup, createKernel, createStorageBuffer, dispatch, dispatchGroups, readBuffer, type BindingKind, type Kernel, type KernelSpec, type ShaderPart } from '../gpu/kernel.ts';
import type { LayerSlots, NetShape, ParamLayout } from '../model/layout.ts';
import { LinearOp, type LinearActivation, type LinearBinding, type LinearBuffers, type LinearTiles } from '../ops/linear.ts';
import type { GpuContext } from '../platform/gpu-context.ts';

/** Bytes of per-row activations, gradients and loss terms the layered path keeps at most. */
const ROW_BUDGET_BYTES = 256 * 2 ** 20;
/** Bytes of one Slice record (layered_slice.wgsl). */
const SLICE_BYTES = 32;

/** The trainer's buffers the layered path reads and writes (GpuTrainer owns them). */
export interface LayeredBuffers {
  uniform: GPUBuffer;
  agents: GPUBuffer;
  params: GPUBuffer;
  grads: GPUBuffer;
  envs: GPUBuffer;
  obs: GPUBuffer;
  stepInfo: GPUBuffer;
  logits: GPUBuffer;
  values: GPUBuffer;
  targets: GPUBuffer;
  metrics: GPUBuffer;
  stats: GPUBuffer;
  norm: GPUBuffer;
}

/** One layer of one network at one place in the graph: its op, slots, input and output buffers. */
interface Layer {
  name: string;
  op: LinearOp;
  slots: LayerSlots;
  x: GPUBuffer;
  y: GPUBuffer;
  activation: LinearActivation;
  /** The activation that produced x (identity for the observations). */
  inputActivation: LinearActivation;
}

/** A backward step: the layer, where its output gradient is and where its input gradient goes. */
interface BackwardStep {
  layer: Layer;
  dY: GPUBuffer;
  dX: GPUBuffer | null;
}

interface Chunk {
  first: number;
  rows: number;
}

/** One call's rows in the activation buffers: `rows` per agent from `offset`, of `stride` per agent. */
interface Rows {
  rows: number;
  stride: number;
  offset: number;
}

const compact = (rows: number): Rows => ({ rows, stride: rows, offset: 0 });

function chunks(total: number, size: number): Chunk[] {
  const out: Chunk[] = [];
  for (let first = 0; first < total; first += size) out.push({ first, rows: Math.min(size, total - first) });
  return out;
}

/** Floats per row of the update's buffers; the largest width of one buffer row. */
export function layeredRowFloats(shape: NetShape, layout: ParamLayout): { floats: number; widest: number } {
  const hidden = (layers: LayerSlots[]) => layers.slice(0, -1).map((l) => l.outputs);
  const actorHidden = hidden(layout.actor);
  const criticHidden = shape.sharedTrunk ? [] : hidden(layout.critic);
  const widest = Math.max(shape.obsSize, shape.numActions, shape.valueOutputs, ...actorHidden, ...hidden(layout.critic));
  const terms = 4 + (shape.policy === 'gaussian' ? shape.numActions : 0);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const floats = shape.obsSize + sum(actorHidden) + sum(criticHidden) + 2 * (shape.numActions + shape.valueOutputs) + (shape.sharedTrunk ? 3 : 2) * widest + terms;
  return { floats, widest };
}

/**
 * The rows one call of the layered path may take for G agents: the memory budget, one buffer's
 * binding limit and the rollout's T·N rows bound it. 0 when not even one row fits.
 */
export function layeredRowCapacity(device: GPUDevice, shape: NetShape, layout: ParamLayout, numAgents: number, totalRows: number): number {
  const { floats, widest } = layeredRowFloats(shape, layout);
  const bindingBytes = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const byBudget = Math.floor(ROW_BUDGET_BYTES / (numAgents * floats * 4));
  const byBinding = Math.floor(bindingBytes / (numAgents * widest * 4));
  return Math.max(0, Math.min(totalRows, byBudget, byBinding));
}

/**
 * linear.wgsl's tiles for this adapter. Its defaults were measured on a CPU driver (lavapipe), where big
 * register tiles and few large workgroups win; a GPU wants the opposite: small per-thread tiles (no
 * register spills) and many workgroups to fill its cores.
 */
export function linearTilesFor(ctx: Pick<GpuContext, 'adapterName'>): LinearTiles {
  if (/llvmpipe|lavapipe|swiftshader|software/i.test(ctx.adapterName)) return {};
  return { forward4: 1, backwardInput4: 1, weightsK4: 1, weightsN4: 1, tileRows: 64 };
}

/** Final-observation slots per agent: N·⌈T / max episode steps⌉ (an env truncates at most once per max steps). */
export function finalSlotsOf(config: Pick<TrainConfig, 'numEnvs' | 'nSteps'>, env: EnvSpec): number {
  return config.numEnvs * Math.ceil(config.nSteps / env.maxEpisodeSteps);
}

type LayeredKernelName = 'observe' | 'act' | 'policyLoss' | 'valueLoss' | 'reduce' | 'add' | 'ppo';

/**
 * Loss terms per row: policy loss, value loss, entropy, approximate KL (PPO; 0 otherwise), PPO's clipped
 * indicator, then (Gaussian) each log_std gradient.
 */
function termColumnsOf(shape: NetShape, algo: TrainConfig['algo']): number {
  return 4 + (algo === 'ppo' ? 1 : 0) + (shape.policy === 'gaussian' ? shape.numActions : 0);
}

/** PPO's minibatch rows per agent: T·N / numMinibatches. */
export function minibatchRowsOf(config: Pick<TrainConfig, 'numEnvs' | 'nSteps' | 'numMinibatches'>): number {
  return (config.numEnvs * config.nSteps) / config.numMinibatches;
}

/**
 * The layered path's shader modules (stems, bindings, entry points, override constants) for a config:
 * what LayeredNetwork compiles, and what test/platform/naga.test.ts compiles under a second WebGPU
 * implementation. `trainConstants`: the constants every trainer kernel shares (gpu-trainer.ts trainConstantsOf).
 */
export function layeredKernelSpecs(
  config: TrainConfig,
  layout: ParamLayout,
  env: EnvSpec,
  trainConstants: Record<string, number>,
): Record<Exclude<LayeredKernelName, 'ppo'>, KernelSpec> & { ppo?: KernelSpec } {
  const shape = netShapeOf(config, env);
  const gaussian = shape.policy === 'gaussian';
  const envParts: ShaderPart[] = [envModulePart(env), 'rng', 'env_interface'];
  const base = ['train_params', 'layered_slice', 'policy'];
  const box = env.actionSpace.type === 'Box' ? env.actionSpace : null;
  const bounds: Record<string, number> = {};
  for (let d = 0; d < 4; d++) {
    bounds[`action_low${d}`] = box?.low[d] ?? -1;
    bounds[`action_high${d}`] = box?.high[d] ?? 1;
  }
  const offLogStd = layout.logStd?.offset ?? 0;
  // With a shared trunk the critic head's input gradient joins the trunk's top hidden layer.
  const addWidth = shape.sharedTrunk ? layout.actor[layout.actor.length - 2].outputs : 1;
  const D: BindingKind = 'dynamic-uniform';
  const R: BindingKind = 'read-only-storage';
  const S: BindingKind = 'storage';
  const kernel = (label: string, stems: ShaderPart[], bindings: (BindingKind | null)[], entryPoints: string[], constants: Record<string, number>): KernelSpec => ({
    label: `layered.${label}`,
    stems: [...envParts, ...stems],
    bindings,
    entryPoints,
    constants: { ...trainConstants, final_slots: finalSlotsOf(config, env), ...constants },
  });
  const envC = envConstants(env);
  const ppo = config.algo === 'ppo';
  const head = { gaussian_policy: gaussian ? 1 : 0, off_log_std: offLogStd };
  return {
    observe: kernel(
      'observe',
      ['train_params', 'layered_slice', 'ppo_shuffle', 'normalize_apply', 'layered_observe'],
      ['uniform', D, R, S, R, S, R, S, 'uniform'],
      ['observeEnvs', 'prepareRows', 'prepareFinal', 'normalizeRewards', ...(ppo ? ['prepareMinibatch'] : [])],
      envC,
    ),
    act: kernel(
      'act',
      [...base, ...(gaussian ? ['policy_gaussian', 'layered_act', 'layered_act_gaussian'] : ['layered_act', 'layered_act_categorical'])],
      ['uniform', D, 'uniform', S, R, R, S, S, S, S, gaussian ? R : S],
      ['resetEnvs', 'rolloutAct', 'rolloutBootstrap', 'rolloutLast', 'evaluateAct'],
      { ...envC, ...(gaussian ? { ...bounds, off_log_std: offLogStd } : {}) },
    ),
    policyLoss: kernel('policyLoss', [...base, 'ppo_shuffle', 'policy_gaussian', 'layered_loss'], ['uniform', D, 'uniform', R, R, R, null, R, null, R, S, null, S], ['policyLoss'], head),
    valueLoss: kernel('valueLoss', [...base, 'ppo_shuffle', 'policy_gaussian', 'layered_loss'], ['uniform', D, 'uniform', R, R, null, R, null, R, null, null, S, S, R], ['valueLoss'], {
      ...head,
      clip_vloss: config.clipVloss ? 1 : 0,
    }),
    ...(ppo
      ? { ppo: kernel('ppo', [...base, 'ppo_shuffle', 'policy_gaussian', 'layered_ppo'], ['uniform', D, 'uniform', S, S, R, R, R], ['ppoBegin', 'oldLogProb', 'minibatchMoments', 'ppoEpochEnd'], head) }
      : {}),
    reduce: kernel('reduce', ['train_params', 'layered_slice', 'layered_reduce'], ['uniform', D, R, S, S, S], ['sumRows', 'finishLosses'], {
      term_columns: termColumnsOf(shape, config.algo),
      gaussian_policy: gaussian ? 1 : 0,
      off_log_std: offLogStd,
    }),
    add: kernel('add', ['train_params', 'layered_slice', 'layered_reduce'], ['uniform', D, null, null, null, null, S, R], ['addRows'], { add_width: addWidth }),
  };
}

export class LayeredNetwork {
  /** Rows per agent in the activation buffers: one call's at most, or (kept) the rollout's and one more step's. */
  readonly rowCapacity: number;
  /**
   * Whether the rollout's activations are kept for the update (when T·N rows and one more step's fit the
   * budget): the rollout's step t writes rows t·N of each agent's S = T·N + max(N, final slots), and the
   * update goes straight to the loss and the backward. Otherwise the update recomputes them chunk by chunk.
   */
  readonly keepsActivations: boolean;

  readonly gaussian: boolean;
  private readonly kernels: Record<Exclude<LayeredKernelName, 'ppo'>, Kernel> & { ppo?: Kernel };
  private readonly groups: Record<Exclude<LayeredKernelName, 'ppo'>, GPUBindGroup> & { ppo?: GPUBindGroup };
  /** PPO: each minibatch's chunks of rows (minibatchRowsOf rows per agent, at most rowCapacity a call). */
  private readonly minibatchChunks: Chunk[];
  private readonly owned: GPUBuffer[] = [];
  private readonly ops = new Map<string, LinearOp>();
  private readonly bindings = new Map<string, LinearBinding>();
  private readonly actorLayers: Layer[];
  private readonly criticLayers: Layer[];
  private readonly backwardSteps: BackwardStep[];
  /** With a shared trunk: the trunk's top gradient gets the critic head's part added (width, buffers). */
  private readonly trunkJoin: { width: number } | null;
  private readonly slices: GPUBuffer;
  private readonly sliceOffsets = new Map<string, number>();
  /** The activation rows of each slice's calls. */
  private readonly callRows = new Map<string, Rows>();
  private readonly sliceStride: number;
  private readonly envChunks: Chunk[];
  private readonly rowChunks: Chunk[];
  /** Chunks of each agent's final-observation slots (train_params.wgsl: N·K of them). */
  private readonly finalChunks: Chunk[];
  /** N·K: final-observation slots per agent (finalSlotsOf). */
  readonly finalSlots: number;
  private readonly termColumns: number;
  private readonly buf: Record<'xIn' | 'z' | 'v' | 'dz' | 'dv' | 'dA' | 'dB' | 'dC' | 'rowData' | 'rowTerms' | 'termSums' | 'spare', GPUBuffer>;
  private readonly evals = new Map<number, { envs: GPUBuffer; slices: GPUBuffer; observe: GPUBindGroup; chunks: Chunk[] }>();

  constructor(
    readonly ctx: GpuContext,
    readonly config: TrainConfig,
    readonly shape: NetShape,
    readonly layout: ParamLayout,
    readonly env: EnvSpec,
    readonly b: LayeredBuffers,
    readonly slotWords: number,
    trainConstants: Record<string, number>,
    /** At most this many rows per call (tests force chunking with it); default from the memory budget. */
    maxRows?: number,
    /** linear.wgsl's tiles; default linearTilesFor(ctx). */
    tiles?: LinearTiles,
  ) {
    const { numAgents: g, numEnvs: n, nSteps: t } = config;
    const { obsSize: O, numActions: A, valueOutputs: V } = shape;
    this.gaussian = shape.policy === 'gaussian';
    const totalRows = t * n;
    this.finalSlots = finalSlotsOf(config, env);
    const kept = totalRows + Math.max(n, this.finalSlots);
    const capacity = Math.min(layeredRowCapacity(ctx.device, shape, layout, g, kept), maxRows ?? Infinity);
    if (capacity < 1) {
      throw new RangeError(`the network's activations for ${g} agent(s) do not fit this adapter's buffers (maxStorageBufferBindingSize ${ctx.device.limits.maxStorageBufferBindingSize} bytes): use fewer agents or narrower layers`);
    }
    this.keepsActivations = capacity >= kept;
    const cap = this.keepsActivations ? kept : Math.min(capacity, totalRows);
    this.rowCapacity = cap;
    this.envChunks = chunks(n, Math.min(n, cap));
    this.rowChunks = chunks(totalRows, cap);
    this.finalChunks = chunks(this.finalSlots, cap);
    this.termColumns = termColumnsOf(shape, config.algo);
    this.minibatchChunks = config.algo === 'ppo' ? chunks(minibatchRowsOf(config), Math.min(cap, minibatchRowsOf(config))) : [];
    const { widest } = layeredRowFloats(shape, layout);
    const storage = (label: string, floats: number) => {
      const buffer = createStorageBuffer(ctx, `layered.${label}`, Math.max(4, floats) * 4);
      this.owned.push(buffer);
      return buffer;
    };
    this.buf = {
      xIn: storage('xIn', g * cap * O),
      z: storage('z', g * cap * A),
      v: storage('v', g * cap * V),
      dz: storage('dz', g * cap * A),
      dv: storage('dv', g * cap * V),
      dA: storage('dA', g * cap * widest),
      dB: storage('dB', g * cap * widest),
      dC: storage('dC', shape.sharedTrunk ? g * cap * widest : 1),
      // train_params.wgsl's row data: final observations, a Gaussian policy's actions, the final steps.
      rowData: storage('rowData', g * (this.finalSlots * (O + 1) + totalRows * A)),
      rowTerms: storage('rowTerms', g * cap * this.termColumns),
      termSums: storage('termSums', g * this.termColumns),
      spare: storage('spare', 4),
    };

    // THE LAYERS: actor O → H_1 → … → A; critic O → … → V, or its head on the actor's top hidden layer.
    const act = config.activation as LinearActivation;
    const opFor = (inputs: number, outputs: number) => {
      const key = `${inputs}x${outputs}`;
      let op = this.ops.get(key);
      if (!op) this.ops.set(key, (op = new LinearOp(ctx, { inputs, outputs, agents: g, rows: cap }, tiles ?? linearTilesFor(ctx))));
      return op;
    };
    const chain = (name: string, slots: LayerSlots[], input: GPUBuffer, inputActivation: LinearActivation, output: GPUBuffer): Layer[] => {
      let x = input;
      let xAct = inputActivation;
      return slots.map((s, l) => {
        const y = s.activated ? storage(`${name}${l + 1}`, g * cap * s.outputs) : output;
        const layer: Layer = { name: `${name}${l + 1}`, op: opFor(s.inputs, s.outputs), slots: s, x, y, activation: s.activated ? act : 'identity', inputActivation: xAct };
        x = y;
        xAct = layer.activation;
        return layer;
      });
    };
    this.actorLayers = chain('actor', layout.actor, this.buf.xIn, 'identity', this.buf.z);
    const trunkTop = this.actorLayers[this.actorLayers.length - 2];
    this.criticLayers = shape.sharedTrunk
      ? chain('criticHead', layout.critic.slice(-1), trunkTop.y, act, this.buf.v)
      : chain('critic', layout.critic, this.buf.xIn, 'identity', this.buf.v);

    // THE BACKWARD, top down: each head, then the hidden layers, the gradient ping-ponging between two
    // buffers; with a shared trunk the critic head's input gradient (dC) is added to the actor's first.
    const steps: BackwardStep[] = [];
    const down = (layers: Layer[], dTop: GPUBuffer) => {
      let dY = dTop;
      let next = this.buf.dA;
      for (let l = layers.length - 1; l >= 0; l--) {
        const dX = l === 0 ? null : next;
        steps.push({ layer: layers[l], dY, dX });
        if (dX) {
          dY = dX;
          next = dX === this.buf.dA ? this.buf.dB : this.buf.dA;
        }
      }
    };
    if (shape.sharedTrunk) {
      steps.push({ layer: this.criticLayers[0], dY: this.buf.dv, dX: this.buf.dC });
      down(this.actorLayers, this.buf.dz);
      this.trunkJoin = { width: trunkTop.slots.outputs };
    } else {
      down(this.actorLayers, this.buf.dz);
      down(this.criticLayers, this.buf.dv);
      this.trunkJoin = null;
    }
    this.backwardSteps = steps;

    // THE KERNELS
    const specs = layeredKernelSpecs(config, layout, env, trainConstants);
    this.kernels = {
      observe: createKernel(ctx, specs.observe),
      act: createKernel(ctx, specs.act),
      policyLoss: createKernel(ctx, specs.policyLoss),
      valueLoss: createKernel(ctx, specs.valueLoss),
      reduce: createKernel(ctx, specs.reduce),
      add: createKernel(ctx, specs.add),
      ...(specs.ppo ? { ppo: createKernel(ctx, specs.ppo) } : {}),
    };

    // THE SLICES: every (step, chunk of envs) of the rollout and every chunk of rows, written once.
    this.sliceStride = Math.max(SLICE_BYTES, ctx.device.limits.minUniformBufferOffsetAlignment);
    const records: [string, number[]][] = [];
    const record = (key: string, step: number, c: Chunk, storeObs: boolean, at: Rows, chunk = 0) => {
      records.push([key, [step, c.first, c.rows, storeObs ? 1 : 0, at.stride, at.offset, chunk, 0]]);
      this.callRows.set(key, at);
    };
    for (let step = 0; step <= t; step++) {
      for (const c of this.envChunks) record(`step:${step}:${c.first}`, step, c, step < t, this.keepsActivations ? { rows: c.rows, stride: cap, offset: step * n } : compact(c.rows));
    }
    for (const [i, c] of this.rowChunks.entries()) record(`rows:${c.first}`, 0, c, false, this.keepsActivations ? { rows: c.rows, stride: cap, offset: 0 } : compact(c.rows), i);
    // PPO: per epoch and minibatch, the whole minibatch (its moments) and its chunks, at positions of the
    // epoch's shuffled order; their activations are recomputed (the parameters change every minibatch).
    if (config.algo === 'ppo') {
      const m = minibatchRowsOf(config);
      for (let epoch = 0; epoch < config.updateEpochs; epoch++) {
        for (let mb = 0; mb < config.numMinibatches; mb++) {
          record(`minibatch:${epoch}:${mb}`, epoch, { first: mb * m, rows: m }, false, compact(m));
          for (const [i, c] of this.minibatchChunks.entries()) record(`minibatch:${epoch}:${mb}:${c.first}`, epoch, { first: mb * m + c.first, rows: c.rows }, false, compact(c.rows), i);
        }
      }
    }
    for (const c of this.finalChunks) record(`finals:${c.first}`, 0, c, false, this.keepsActivations ? { rows: c.rows, stride: cap, offset: totalRows } : compact(c.rows));
    this.slices = this.sliceBuffer('slices', records, this.sliceOffsets);
    // No final observation yet: every slot's step −1.
    const finalsAt = g * (this.finalSlots * O + totalRows * A);
    ctx.device.queue.writeBuffer(this.buf.rowData, finalsAt * 4, new Float32Array(g * this.finalSlots).fill(-1));

    const slice = { buffer: this.slices, size: SLICE_BYTES };
    const k = this.kernels;
    const bf = this.buf;
    this.groups = {
      observe: bindGroup(ctx, k.observe, 'layered.observe', [b.uniform, slice, b.envs, b.obs, b.norm, bf.xIn, bf.rowData, b.values, b.agents]),
      act: bindGroup(ctx, k.act, 'layered.act', [b.uniform, slice, b.agents, b.envs, bf.z, bf.v, b.stepInfo, b.values, b.stats, bf.rowData, this.gaussian ? b.params : b.logits]),
      policyLoss: bindGroup(ctx, k.policyLoss, 'layered.policyLoss', [b.uniform, slice, b.agents, b.targets, b.metrics, bf.z, null, this.gaussian ? bf.rowData : b.stepInfo, null, b.params, bf.dz, null, bf.rowTerms]),
      valueLoss: bindGroup(ctx, k.valueLoss, 'layered.valueLoss', [b.uniform, slice, b.agents, b.targets, b.metrics, null, bf.v, null, b.stepInfo, null, null, bf.dv, bf.rowTerms, b.values]),
      reduce: bindGroup(ctx, k.reduce, 'layered.reduce', [b.uniform, slice, bf.rowTerms, bf.termSums, b.metrics, b.grads]),
      add: bindGroup(ctx, k.add, 'layered.add', [b.uniform, slice, null, null, null, null, bf.dA, bf.dC]),
      ...(k.ppo ? { ppo: bindGroup(ctx, k.ppo, 'layered.ppo', [b.uniform, slice, b.agents, b.targets, b.metrics, bf.z, this.gaussian ? bf.rowData : b.stepInfo, b.params]) } : {}),
    };
  }

  /** A buffer of Slice records at the device's uniform offset alignment; `offsets` gets each key's offset. */
  private sliceBuffer(label: string, records: [string, number[]][], offsets: Map<string, number>): GPUBuffer {
    const words = this.sliceStride / 4;
    const data = new Uint32Array(Math.max(1, records.length) * words);
    records.forEach(([key, values], i) => {
      data.set(values, i * words);
      offsets.set(key, i * this.sliceStride);
    });
    const buffer = this.ctx.device.createBuffer({ label: `layered.${label}`, size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.ctx.device.queue.writeBuffer(buffer, 0, data);
    this.owned.push(buffer);
    return buffer;
  }

  private offset(key: string): number[] {
    const at = this.sliceOffsets.get(key);
    if (at === undefined) throw new Error(`layered: no slice ${key}`);
    return [at];
  }

  /** The op binding of a layer for some rows: the forward, or the backward with its gradient buffers. */
  private binding(layer: Layer, at: Rows, backward?: { dY: GPUBuffer; dX: GPUBuffer | null; accumulate: boolean }): LinearBinding {
    const key = `${layer.name}:${at.rows}:${at.stride}:${at.offset}:${backward ? `${backward.dY.label}:${backward.dX?.label}:${backward.accumulate}` : 'fwd'}`;
    let binding = this.bindings.get(key);
    if (!binding) {
      const { slots } = layer;
      const common = { params: this.b.params, paramStride: this.layout.total, weightOffset: slots.weight.offset, biasOffset: slots.bias.offset, x: layer.x, rows: at.rows, rowStride: at.stride, rowOffset: at.offset };
      const spec: LinearBuffers = backward
        ? { ...common, grads: this.b.grads, dY: backward.dY, ...(backward.dX ? { dX: backward.dX } : {}), inputActivation: layer.inputActivation, accumulate: backward.accumulate }
        : { ...common, y: layer.y, activation: layer.activation };
      this.bindings.set(key, (binding = layer.op.bind(spec)));
    }
    return binding;
  }

  private forward(pass: GPUComputePassEncoder, layers: Layer[], at: Rows): void {
    for (const layer of layers) layer.op.encodeForward(pass, this.binding(layer, at));
  }

  private rowsOf(sliceKey: string): Rows {
    const at = this.callRows.get(sliceKey);
    if (!at) throw new Error(`layered: no slice ${sliceKey}`);
    return at;
  }

  private run(pass: GPUComputePassEncoder, kernel: LayeredKernelName, entry: string, invocations: number, sliceKey: string): void {
    const k = this.kernels[kernel];
    const group = this.groups[kernel];
    if (!k || !group) throw new Error(`layered: no ${kernel} kernel for this config`);
    dispatch(pass, this.ctx, k, entry, group, invocations, this.offset(sliceKey));
  }

  /** Every env of the trainer at episode 0 of its agent's seed. */
  encodeReset(pass: GPUComputePassEncoder): void {
    this.run(pass, 'act', 'resetEnvs', this.config.numAgents * this.config.numEnvs, `rows:0`);
  }

  /** COLLECT ROLLOUT: T steps of every env, the values after the last, the bootstraps of truncated episodes. */
  encodeRollout(pass: GPUComputePassEncoder): void {
    const g = this.config.numAgents;
    const t = this.config.nSteps;
    for (let step = 0; step <= t; step++) {
      for (const c of this.envChunks) {
        const key = `step:${step}:${c.first}`;
        this.run(pass, 'observe', 'observeEnvs', g * c.rows, key);
        this.forward(pass, this.actorLayers, this.rowsOf(key));
        this.forward(pass, this.criticLayers, this.rowsOf(key));
        this.run(pass, 'act', step < t ? 'rolloutAct' : 'rolloutLast', g * c.rows, key);
      }
    }
    for (const c of this.finalChunks) {
      const key = `finals:${c.first}`;
      this.run(pass, 'observe', 'prepareFinal', g * c.rows, key);
      this.forward(pass, this.actorLayers, this.rowsOf(key));
      this.forward(pass, this.criticLayers, this.rowsOf(key));
      this.run(pass, 'act', 'rolloutBootstrap', g * c.rows, key);
    }
    if (this.config.normalizeRewards) this.run(pass, 'observe', 'normalizeRewards', g * t * this.config.numEnvs, 'rows:0');
  }

  /** UPDATE NETWORK up to the gradients: forward, loss heads and backward over every chunk of rows. */
  encodeGradients(pass: GPUComputePassEncoder): void {
    const g = this.config.numAgents;
    for (const [index, c] of this.rowChunks.entries()) {
      const key = `rows:${c.first}`;
      // The rollout's activations, when kept, are this update's: the same parameters, the same inputs.
      if (!this.keepsActivations) this.run(pass, 'observe', 'prepareRows', g * c.rows, key);
      this.encodeLossAndBackward(pass, key, index > 0, !this.keepsActivations);
    }
  }

  /**
   * One chunk of rows whose network inputs are in place: the forward (unless the rollout's activations are
   * kept), the loss heads, their sums and the backward, the weight gradients added to the earlier chunks'
   * when `accumulate`.
   */
  private encodeLossAndBackward(pass: GPUComputePassEncoder, key: string, accumulate: boolean, forward = true): void {
    const g = this.config.numAgents;
    const at = this.rowsOf(key);
    if (forward) {
      this.forward(pass, this.actorLayers, at);
      this.forward(pass, this.criticLayers, at);
    }
    this.run(pass, 'policyLoss', 'policyLoss', g * at.rows, key);
    this.run(pass, 'valueLoss', 'valueLoss', g * at.rows, key);
    dispatchGroups(pass, this.kernels.reduce, 'sumRows', this.groups.reduce, this.termColumns, g, this.offset(key));
    for (const [s, step] of this.backwardSteps.entries()) {
      const { op } = step.layer;
      const binding = this.binding(step.layer, at, { dY: step.dY, dX: step.dX, accumulate });
      op.encodeBackwardWeights(pass, binding);
      if (step.dX) op.encodeBackwardInput(pass, binding);
      // Shared trunk: after the actor head (the step after the critic head), the critic's part joins.
      if (this.trunkJoin && s === 1) this.run(pass, 'add', 'addRows', g * at.rows * this.trunkJoin.width, key);
    }
  }

  /** The loss metrics and (Gaussian) the log_std gradient, once the gradients of every chunk are in. */
  encodeFinishLosses(pass: GPUComputePassEncoder): void {
    dispatch(pass, this.ctx, this.kernels.reduce, 'finishLosses', this.groups.reduce, this.config.numAgents, this.offset('rows:0'));
  }

  /**
   * PPO's UPDATE NETWORK (CleanRL's ppo.py), all of it in this pass: the rollout policy's log-probabilities,
   * then for each epoch and each minibatch of its shuffled order the minibatch's advantage moments, its
   * forward, losses and backward, and one optimizer step (`encodeStep`: the trainer's gradNorm and
   * optimizerStep); after each epoch the target-KL check, which stops an agent's later steps on the GPU.
   */
  encodePpoUpdate(pass: GPUComputePassEncoder, encodeStep: () => void): void {
    const g = this.config.numAgents;
    this.run(pass, 'ppo', 'ppoBegin', g, 'rows:0');
    for (const c of this.rowChunks) {
      const key = `rows:${c.first}`;
      const at = this.rowsOf(key);
      if (!this.keepsActivations) {
        this.run(pass, 'observe', 'prepareRows', g * c.rows, key);
        this.forward(pass, this.actorLayers, at);
      }
      this.run(pass, 'ppo', 'oldLogProb', g * c.rows, key);
    }
    for (let epoch = 0; epoch < this.config.updateEpochs; epoch++) {
      for (let mb = 0; mb < this.config.numMinibatches; mb++) {
        dispatchGroups(pass, this.kernels.ppo!, 'minibatchMoments', this.groups.ppo!, g, 1, this.offset(`minibatch:${epoch}:${mb}`));
        for (const [index, c] of this.minibatchChunks.entries()) {
          const key = `minibatch:${epoch}:${mb}:${c.first}`;
          this.run(pass, 'observe', 'prepareMinibatch', g * c.rows, key);
          this.encodeLossAndBackward(pass, key, index > 0);
        }
        this.encodeFinishLosses(pass);
        encodeStep();
      }
      this.run(pass, 'ppo', 'ppoEpochEnd', g, 'rows:0');
    }
  }

  /**
   * Plays `numEpisodes` fresh episodes per agent in lock step (every step a pass over the actor's layers),
   * writing (return, length) per episode to `out`. The uniform must hold numEnvs = numEpisodes and the
   * evaluation seeds.
   */
  encodeEvaluation(encoder: GPUCommandEncoder, out: GPUBuffer, numEpisodes: number): void {
    const g = this.config.numAgents;
    const run = this.evaluation(numEpisodes);
    const slice = { buffer: run.slices, size: SLICE_BYTES };
    const bf = this.buf;
    const b = this.b;
    const act = bindGroup(this.ctx, this.kernels.act, 'layered.evaluate', [b.uniform, slice, b.agents, run.envs, bf.z, bf.v, b.stepInfo, out, b.stats, bf.rowData, this.gaussian ? b.params : b.logits]);
    const pass = encoder.beginComputePass({ label: 'layered evaluation' });
    dispatch(pass, this.ctx, this.kernels.act, 'resetEnvs', act, g * numEpisodes, [0]);
    const steps = this.env.maxEpisodeSteps;
    for (let step = 0; step < steps; step++) {
      for (const [i, c] of run.chunks.entries()) {
        const offsets = [(step * run.chunks.length + i) * this.sliceStride];
        dispatch(pass, this.ctx, this.kernels.observe, 'observeEnvs', run.observe, g * c.rows, offsets);
        this.forward(pass, this.actorLayers, compact(c.rows));
        dispatch(pass, this.ctx, this.kernels.act, 'evaluateAct', act, g * c.rows, offsets);
      }
    }
    pass.end();
  }

  private evaluation(numEpisodes: number) {
    let run = this.evals.get(numEpisodes);
    if (!run) {
      const g = this.config.numAgents;
      const envs = createStorageBuffer(this.ctx, 'layered.evalEnvs', g * numEpisodes * this.slotWords * 4);
      this.owned.push(envs);
      const evalChunks = chunks(numEpisodes, Math.min(numEpisodes, this.rowCapacity));
      const records: [string, number[]][] = [];
      for (let step = 0; step < this.env.maxEpisodeSteps; step++) {
        for (const c of evalChunks) records.push([`${step}:${c.first}`, [step, c.first, c.rows, 0, c.rows, 0, 0, 0]]);
      }
      const slices = this.sliceBuffer('evalSlices', records, new Map());
      const b = this.b;
      const observe = bindGroup(this.ctx, this.kernels.observe, 'layered.evalObserve', [b.uniform, { buffer: slices, size: SLICE_BYTES }, envs, b.obs, b.norm, this.buf.xIn, this.buf.rowData, b.values, b.agents]);
      this.evals.set(numEpisodes, (run = { envs, slices, observe, chunks: evalChunks }));
    }
    return run;
  }

  /** A Gaussian policy's unclipped actions of the last rollout, [G × T·N × A] (tests, diagnostics). */
  async readBoxActions(): Promise<Float32Array> {
    const { numAgents: g, numEnvs: n, nSteps: t } = this.config;
    const at = g * this.finalSlots * this.shape.obsSize * 4;
    return new Float32Array(await readBuffer(this.ctx, this.buf.rowData, g * t * n * this.shape.numActions * 4, at));
  }

  destroy(): void {
    for (const binding of this.bindings.values()) binding.destroy();
    for (const op of this.ops.values()) op.destroy();
    for (const buffer of this.owned) buffer.destroy();
  }
}
