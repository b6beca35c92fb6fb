/**
 * A fully connected layer on the GPU (shaders/linear.wgsl) for G networks side by side, built to be
 * scheduled layer by layer: forward with a fused activation, backward to the input with the previous
 * layer's activation derivative fused in, backward to the weights and bias in a fixed order (overwrite
 * or add into the gradients). W and b are slices of the trainer's flat [G × P] params buffer, their
 * gradients the same slices of grads. Tested against src/cpu/linear.ts.
 *
 * One LinearOp per layer shape (K, N, G): it owns the pipelines and the partial sums of the weight
 * gradients. One LinearBinding per call site (buffers, offsets, rows, activations): it owns a small
 * uniform buffer, so several calls of one op may sit in one command buffer. Make both once, reuse them.
 *
 * Any width: K and N are bounded only by the buffers (W, and the weight gradients' partial sums, must fit
 * one storage binding). A width beyond one workgroup's 64 lanes of 4·C4 outputs (forward) or 4·D4 inputs
 * (backward input) splits its columns over several workgroups per row tile; each element's sum keeps
 * its order, so the results do not depend on the split.
 */
import type { LinearActivation } from '../cpu/linear.ts';
import { bindGroup, createKernel, createStorageBuffer, createUniformBuffer, dispatch, type BindingKind, type Kernel } from '../gpu/kernel.ts';
import type { GpuContext } from '../platform/gpu-context.ts';

export type { LinearActivation } from '../cpu/linear.ts';

export interface LinearDims {
  /** K: inputs. */
  inputs: number;
  /** N: outputs. */
  outputs: number;
  /** G: networks of this shape side by side (default 1). */
  agents?: number;
  /** The most rows R one call may have: sizes the weight gradients' partial sums. */
  rows: number;
}

/**
 * Tile shapes (override constants and row blocking); the defaults were measured on lavapipe
 * (see bench/linear.ts). Each "…4" counts vec4s: a lane's register tile is 64 inputs × 4·C4 outputs.
 */
export interface LinearTiles {
  /** linearForward: outputs per lane / 4 (1–4); default min(4, ⌈N/4⌉). */
  forward4?: number;
  /** linearBackwardInput: inputs per lane / 4 (1–4); default min(4, ⌈K/4⌉). */
  backwardInput4?: number;
  /** linearBackwardWeights: a lane's dW block, inputs / 4 (1–4); default min(2, ⌈K/4⌉). */
  weightsK4?: number;
  /** linearBackwardWeights: a lane's dW block, outputs / 4 (1–4); default min(4, ⌈N/4⌉). */
  weightsN4?: number;
  /** Rows per workgroup of the forward and backward-input kernels; default ⌈R/4⌉ within 64 … 8192. */
  tileRows?: number;
}

/**
 * One call site. Activation buffers are f32 [G × S × width], agent-major and row-major, with S =
 * rowStride rows per agent (default rows) of which this call uses `rows` from rowOffset (default 0).
 */
export interface LinearBuffers {
  /** [G × P] f32: W [K × N] row-major at weightOffset and b [N] at biasOffset of each agent's P. */
  params: GPUBuffer;
  /** P: parameters per agent (the agent stride of params and grads). */
  paramStride: number;
  weightOffset: number;
  biasOffset: number;
  /** [G × P]: dW and db land at the same offsets; needed by the weight backward. */
  grads?: GPUBuffer;
  /** [G × S × K]: the layer's input (for the backward to the input, also the previous activation's output). */
  x: GPUBuffer;
  /** [G × S × N]: forward output, overwritten. */
  y?: GPUBuffer;
  /** [G × S × N]: the loss gradient w.r.t. y (this layer's pre-activation when its activation is applied elsewhere). */
  dY?: GPUBuffer;
  /** [G × S × K]: backward to the input, overwritten. */
  dX?: GPUBuffer;
  /** R: rows of this call (default dims.rows). */
  rows?: number;
  /** S: rows per agent in x, y, dX, dY (default rows). */
  rowStride?: number;
  /** The call's first row within each agent's S rows (default 0): rowOffset + rows ≤ S. */
  rowOffset?: number;
  /** The forward's epilogue: y = act(x·W + b). Default identity. */
  activation?: LinearActivation;
  /** The activation that produced x; the backward to the input multiplies by its derivative. Default identity. */
  inputActivation?: LinearActivation;
  /** Weight backward: add dW, db into grads instead of overwriting them (chunked batches). Default false. */
  accumulate?: boolean;
}

export interface LinearBinding {
  readonly rows: number;
  readonly forward: GPUBindGroup | null;
  readonly backwardInput: GPUBindGroup | null;
  readonly backwardWeights: GPUBindGroup | null;
  readonly reduceWeights: GPUBindGroup | null;
  /** Workgroups of each dispatch (for benchmarks and tests). */
  readonly workgroups: { forward: number; backwardInput: number; backwardWeights: number; reduceWeights: number };
  /** Frees the binding's uniform buffer. */
  destroy(): void;
}

const ACTIVATION_CODE: Record<LinearActivation, number> = { identity: 0, tanh: 1, relu: 2 };
const WORKGROUP = 64;
/** Partial sums kept for the weight gradients, at most (floats: 16 MiB). */
const MAX_PARTIALS = 1 << 22;
/** Rows one lane sums into one partial, at most: bounds the f32 chain of each partial. */
const MAX_LANE_ROWS = 4096;
/**
 * Row tiles (forward, backward input) and weight chunks aimed at per agent. Few and large on lavapipe:
 * each workgroup first loads its W tile (per lane, 64 × 16 values by gathers), which 4 tiles of R/4 rows
 * amortize best (measured: R = 4k: 1,024-row tiles; R = 64k: 8,192-row tiles beat 2,048 by ~15%).
 */
const TARGET_WORKGROUPS = 4;
const MAX_TILE_ROWS = 8192;

type Slots = (BindingKind | null)[];
const R: BindingKind = 'read-only-storage';
const S: BindingKind = 'storage';
// Binding index: 0 call, 1 params, 2 params4, 3 x, 4 x4, 5 y, 6 dy, 7 dy4, 8 dx, 9 partials, 10 grads,
// 11 y4, 12 dx4 (the vec4 views of y and dx; the view a shape does not write is bound to a spare buffer).
const ENTRY_BINDINGS: Record<string, Slots> = {
  linearForward: ['uniform', R, R, R, R, S, null, null, null, null, null, S],
  linearBackwardInput: ['uniform', R, R, R, R, null, R, R, S, null, null, null, S],
  linearBackwardWeights: ['uniform', null, null, R, R, null, R, R, null, S],
  linearReduceWeights: ['uniform', null, null, null, null, null, null, null, null, S, S],
};

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

function positiveInteger(name: string, v: number, max = Infinity): number {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`LinearOp: ${name} must be an integer in 1..${max}, got ${v}`);
  return v;
}

export class LinearOp {
  readonly agents: number;
  /** Override constants of every pipeline. */
  readonly constants: Record<string, number>;
  private readonly kernels: Record<string, Kernel>;
  private readonly partials: GPUBuffer;
  private readonly spare: GPUBuffer;
  private readonly rowLanes: { forward: number; backwardInput: number; weights: number };
  /** Workgroups per row tile of the row-tiled kernels (their column groups). */
  private readonly colGroups: { forward: number; backwardInput: number };
  private readonly blockGroups: number;
  private readonly maxPartials: number;

  constructor(
    readonly ctx: GpuContext,
    readonly dims: LinearDims,
    readonly tiles: LinearTiles = {},
  ) {
    const K = positiveInteger('inputs', dims.inputs);
    const N = positiveInteger('outputs', dims.outputs);
    positiveInteger('rows', dims.rows);
    this.agents = positiveInteger('agents', dims.agents ?? 1);
    const C4 = positiveInteger('tiles.forward4', tiles.forward4 ?? Math.min(4, ceilDiv(N, 4)), 4);
    const D4 = positiveInteger('tiles.backwardInput4', tiles.backwardInput4 ?? Math.min(4, ceilDiv(K, 4)), 4);
    const BK4 = positiveInteger('tiles.weightsK4', tiles.weightsK4 ?? Math.min(2, ceilDiv(K, 4)), 4);
    const BN4 = positiveInteger('tiles.weightsN4', tiles.weightsN4 ?? Math.min(4, ceilDiv(N, 4)), 4);
    if (tiles.tileRows !== undefined) positiveInteger('tiles.tileRows', tiles.tileRows);
    // The same lane arithmetic as shaders/linear.wgsl (col_split).
    const colSplit = (width: number, per4: number) => {
      const lanes = ceilDiv(width, 4 * per4);
      const groups = ceilDiv(lanes, WORKGROUP);
      return { groups, lanes: ceilDiv(lanes, groups) };
    };
    const forwardCols = colSplit(N, C4);
    const inputCols = colSplit(K, D4);
    const blocks = ceilDiv(K, 4 * BK4) * ceilDiv(N, 4 * BN4);
    this.rowLanes = {
      forward: Math.floor(WORKGROUP / forwardCols.lanes),
      backwardInput: Math.floor(WORKGROUP / inputCols.lanes),
      weights: Math.max(1, Math.floor(WORKGROUP / blocks)),
    };
    this.colGroups = { forward: forwardCols.groups, backwardInput: inputCols.groups };
    this.blockGroups = ceilDiv(blocks, WORKGROUP);
    this.constants = { workgroup_size: WORKGROUP, K, N, C4, D4, BK4, BN4 };
    this.kernels = Object.fromEntries(
      Object.entries(ENTRY_BINDINGS).map(([entry, bindings]) => [
        entry,
        createKernel(ctx, { label: `${entry} ${K}x${N}`, stems: ['linear'], bindings, entryPoints: [entry], constants: this.constants }),
      ]),
    );
    this.maxPartials = this.chunking(dims.rows).numPartials;
    this.partials = createStorageBuffer(ctx, 'linear.partials', this.agents * this.maxPartials * (K * N + N) * 4);
    this.spare = createStorageBuffer(ctx, 'linear.spare', 16);
  }

  /** Chunks of the weight backward for R rows: each lane sums at most MAX_LANE_ROWS rows into a partial. */
  private chunking(rows: number) {
    const { inputs: K, outputs: N } = this.dims;
    const lanes = this.rowLanes.weights;
    const maxChunks = Math.max(1, Math.floor(MAX_PARTIALS / (this.agents * lanes * (K * N + N))));
    let chunkRows = Math.max(ceilDiv(rows, TARGET_WORKGROUPS), 64 * lanes);
    chunkRows = Math.min(chunkRows, MAX_LANE_ROWS * lanes);
    chunkRows = Math.max(chunkRows, ceilDiv(rows, maxChunks));
    const numChunks = ceilDiv(rows, chunkRows);
    return { chunkRows, numChunks, numPartials: numChunks * lanes };
  }

  /** Bind groups and the call's uniform for a set of buffers, made once and reused for every encode. */
  bind(b: LinearBuffers): LinearBinding {
    const { inputs: K, outputs: N } = this.dims;
    const G = this.agents;
    const rows = positiveInteger('rows', b.rows ?? this.dims.rows, this.dims.rows);
    const rowStride = positiveInteger('rowStride', b.rowStride ?? rows);
    const rowOffset = b.rowOffset ?? 0;
    if (!Number.isInteger(rowOffset) || rowOffset < 0) throw new RangeError(`LinearOp: rowOffset must be a non-negative integer, got ${rowOffset}`);
    if (rowStride < rowOffset + rows) throw new RangeError(`LinearOp: rowStride ${rowStride} < rowOffset ${rowOffset} + rows ${rows}`);
    const P = positiveInteger('paramStride', b.paramStride);
    for (const [name, offset, size] of [['weightOffset', b.weightOffset, K * N], ['biasOffset', b.biasOffset, N]] as const) {
      if (!Number.isInteger(offset) || offset < 0 || offset + size > P) throw new RangeError(`LinearOp: ${name} ${offset} + ${size} exceeds paramStride ${P}`);
    }
    const need = (name: string, buffer: GPUBuffer | undefined, floats: number) => {
      if (buffer && buffer.size < floats * 4) throw new RangeError(`LinearOp: buffer ${name} holds ${buffer.size} bytes, needs ${floats * 4}`);
    };
    need('params', b.params, G * P);
    need('grads', b.grads, G * P);
    need('x', b.x, G * rowStride * K);
    need('dX', b.dX, G * rowStride * K);
    need('y', b.y, G * rowStride * N);
    need('dY', b.dY, G * rowStride * N);

    const tileRows = (rowLanes: number) => this.tiles.tileRows ?? Math.min(MAX_TILE_ROWS, Math.max(64, ceilDiv(ceilDiv(rows, TARGET_WORKGROUPS), rowLanes) * rowLanes));
    const forwardTile = tileRows(this.rowLanes.forward);
    const inputTile = tileRows(this.rowLanes.backwardInput);
    const { chunkRows, numChunks, numPartials } = this.chunking(rows);
    if (numPartials > this.maxPartials) throw new RangeError(`LinearOp: ${rows} rows need ${numPartials} partial sums, more than the ${this.maxPartials} sized for dims.rows`);
    const aligned = P % 4 === 0 && b.weightOffset % 4 === 0 && b.biasOffset % 4 === 0 && N % 4 === 0;
    const call = (tile: number) =>
      new Uint32Array([
        rows, rowStride, G, P, b.weightOffset, b.biasOffset,
        ACTIVATION_CODE[b.activation ?? 'identity'], ACTIVATION_CODE[b.inputActivation ?? 'identity'], b.accumulate ? 1 : 0,
        tile, ceilDiv(rows, tile), chunkRows, numChunks, numPartials, aligned ? 1 : 0, rowOffset,
      ]);
    // The two row-tiled kernels may want different tile rows: one uniform each when they do.
    const uniforms = [createUniformBuffer(this.ctx, 'linear.call', 64)];
    this.ctx.device.queue.writeBuffer(uniforms[0], 0, call(forwardTile));
    if (inputTile !== forwardTile) {
      uniforms.push(createUniformBuffer(this.ctx, 'linear.call.backwardInput', 64));
      this.ctx.device.queue.writeBuffer(uniforms[1], 0, call(inputTile));
    }
    const [u, uIn = u] = uniforms;
    const k = this.kernels;
    const group = (entry: string, buffers: (GPUBuffer | null)[]) => bindGroup(this.ctx, k[entry], entry, buffers);
    // [scalar view, vec4 view] of an output of `width` per row: the shader writes vec4s when width % 4 == 0.
    const views = (out: GPUBuffer, width: number) => (width % 4 === 0 ? [this.spare, out] : [out, this.spare]);
    const [y, y4] = b.y ? views(b.y, N) : [];
    const [dX, dX4] = b.dX ? views(b.dX, K) : [];
    return {
      rows,
      forward: b.y ? group('linearForward', [u, b.params, b.params, b.x, b.x, y, null, null, null, null, null, y4]) : null,
      backwardInput: b.dY && b.dX ? group('linearBackwardInput', [uIn, b.params, b.params, b.x, b.x, null, b.dY, b.dY, dX, null, null, null, dX4]) : null,
      backwardWeights: b.dY && b.grads ? group('linearBackwardWeights', [u, null, null, b.x, b.x, null, b.dY, b.dY, null, this.partials]) : null,
      reduceWeights: b.dY && b.grads ? group('linearReduceWeights', [u, null, null, null, null, null, null, null, null, this.partials, b.grads]) : null,
      workgroups: {
        forward: G * ceilDiv(rows, forwardTile) * this.colGroups.forward,
        backwardInput: G * ceilDiv(rows, inputTile) * this.colGroups.backwardInput,
        backwardWeights: G * numChunks * this.blockGroups,
        reduceWeights: ceilDiv(G * (K * N + N), WORKGROUP),
      },
      destroy: () => uniforms.forEach((buffer) => buffer.destroy()),
    };
  }

  /** y = act(x·W + b), overwritten. */
  encodeForward(pass: GPUComputePassEncoder, binding: LinearBinding): void {
    if (!binding.forward) throw new Error('LinearOp.encodeForward: the binding has no y');
    this.run(pass, 'linearForward', binding.forward, binding.workgroups.forward);
  }

  /** dX = (dY·Wᵀ) ⊙ act'(x), overwritten. */
  encodeBackwardInput(pass: GPUComputePassEncoder, binding: LinearBinding): void {
    if (!binding.backwardInput) throw new Error('LinearOp.encodeBackwardInput: the binding has no dY or dX');
    this.run(pass, 'linearBackwardInput', binding.backwardInput, binding.workgroups.backwardInput);
  }

  /** dW = xᵀ·dY, db = Σ dY into grads (overwritten, or added with `accumulate`), in two fixed-order passes. */
  encodeBackwardWeights(pass: GPUComputePassEncoder, binding: LinearBinding): void {
    if (!binding.backwardWeights || !binding.reduceWeights) throw new Error('LinearOp.encodeBackwardWeights: the binding has no dY or grads');
    this.run(pass, 'linearBackwardWeights', binding.backwardWeights, binding.workgroups.backwardWeights);
    this.run(pass, 'linearReduceWeights', binding.reduceWeights, binding.workgroups.reduceWeights);
  }

  /** Both backwards, each where the binding has its buffers. */
  encodeBackward(pass: GPUComputePassEncoder, binding: LinearBinding): void {
    if (binding.backwardInput) this.encodeBackwardInput(pass, binding);
    if (binding.backwardWeights) this.encodeBackwardWeights(pass, binding);
  }

  private run(pass: GPUComputePassEncoder, entry: string, group: GPUBindGroup, workgroups: number) {
    dispatch(pass, this.ctx, this.kernels[entry], entry, group, workgroups * WORKGROUP);
  }

  destroy(): void {
    this.partials.destroy();
    this.spare.destroy();
  }
}
