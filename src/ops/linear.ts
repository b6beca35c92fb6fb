/**
 * A standalone fully connected layer on the GPU (shaders/linear.wgsl) for G networks over B rows:
 * forward, and backward to the input and to the weights. The trainer runs this math fused into its own
 * kernels; this op is for other network shapes and is tested against src/cpu/linear.ts.
 */
import { bindGroup, createKernel, createStorageBuffer, createUniformBuffer, dispatch, type BindingKind, type Kernel } from '../gpu/kernel.ts';
import type { GpuContext } from '../platform/gpu-context.ts';

export interface LinearDims {
  /** B: rows per network. */
  rows: number;
  /** K: inputs. */
  inputs: number;
  /** N: outputs. */
  outputs: number;
  /** G: independent networks of this shape (default 1). */
  agents?: number;
}

/** Buffers of f32, agent-major: x [G,B,K], w [G,K,N], bias [G,N], out/dOut [G,B,N], dX [G,B,K], dW [G,K,N], dBias [G,N]. */
export interface LinearBuffers {
  x: GPUBuffer;
  w: GPUBuffer;
  bias: GPUBuffer;
  out: GPUBuffer;
  dOut?: GPUBuffer;
  dX?: GPUBuffer;
  dW?: GPUBuffer;
  dBias?: GPUBuffer;
}

export interface LinearBinding {
  forward: GPUBindGroup;
  backwardInput: GPUBindGroup | null;
  backwardWeights: GPUBindGroup | null;
  reduceWeights: GPUBindGroup | null;
}

/** Partial sums kept for the weight gradients, at most (floats). */
const MAX_PARTIALS = 1 << 22;

type Slots = (BindingKind | null)[];
const R: BindingKind = 'read-only-storage';
const S: BindingKind = 'storage';
const ENTRY_BINDINGS: Record<string, Slots> = {
  linearForward: ['uniform', R, R, R, S],
  linearBackwardInput: ['uniform', null, R, null, null, R, S],
  linearBackwardWeights: ['uniform', R, null, null, null, R, null, S],
  linearReduceWeights: ['uniform', null, null, null, null, null, null, S, S, S],
};

export class LinearOp {
  readonly agents: number;
  readonly chunkRows: number;
  readonly numChunks: number;
  private readonly kernels: Record<string, Kernel>;
  private readonly uniform: GPUBuffer;
  private readonly partials: GPUBuffer;

  constructor(readonly ctx: GpuContext, readonly dims: LinearDims) {
    const { rows, inputs, outputs } = dims;
    this.agents = dims.agents ?? 1;
    for (const [name, v] of Object.entries({ rows, inputs, outputs, agents: this.agents })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`LinearOp: ${name} must be a positive integer, got ${v}`);
    }
    const elements = inputs * outputs + outputs;
    const maxChunks = Math.max(1, Math.floor(MAX_PARTIALS / (this.agents * elements)));
    this.numChunks = Math.min(Math.ceil(rows / 256), maxChunks);
    this.chunkRows = Math.ceil(rows / this.numChunks);
    this.kernels = Object.fromEntries(
      Object.entries(ENTRY_BINDINGS).map(([entry, bindings]) => [entry, createKernel(ctx, { label: entry, stems: ['linear'], bindings, entryPoints: [entry] })]),
    );
    this.uniform = createUniformBuffer(ctx, 'linear.params', 32);
    ctx.device.queue.writeBuffer(this.uniform, 0, new Uint32Array([rows, inputs, outputs, this.agents, this.chunkRows, this.numChunks, 0, 0]));
    this.partials = createStorageBuffer(ctx, 'linear.partials', this.agents * this.numChunks * elements * 4);
  }

  /** Bind groups for a set of buffers, made once and reused for every encode. */
  bind(b: LinearBuffers): LinearBinding {
    const u = this.uniform;
    const k = this.kernels;
    return {
      forward: bindGroup(this.ctx, k.linearForward, 'linearForward', [u, b.x, b.w, b.bias, b.out]),
      backwardInput: b.dOut && b.dX ? bindGroup(this.ctx, k.linearBackwardInput, 'linearBackwardInput', [u, null, b.w, null, null, b.dOut, b.dX]) : null,
      backwardWeights: b.dOut ? bindGroup(this.ctx, k.linearBackwardWeights, 'linearBackwardWeights', [u, b.x, null, null, null, b.dOut, null, this.partials]) : null,
      reduceWeights:
        b.dW && b.dBias ? bindGroup(this.ctx, k.linearReduceWeights, 'linearReduceWeights', [u, null, null, null, null, null, null, this.partials, b.dW, b.dBias]) : null,
    };
  }

  encodeForward(pass: GPUComputePassEncoder, binding: LinearBinding): void {
    const { rows, outputs } = this.dims;
    dispatch(pass, this.ctx, this.kernels.linearForward, 'linearForward', binding.forward, this.agents * rows * outputs);
  }

  /** dX (when bound) and dW, dBias (when bound), all overwritten. */
  encodeBackward(pass: GPUComputePassEncoder, binding: LinearBinding): void {
    const { rows, inputs, outputs } = this.dims;
    if (binding.backwardInput) dispatch(pass, this.ctx, this.kernels.linearBackwardInput, 'linearBackwardInput', binding.backwardInput, this.agents * rows * inputs);
    if (binding.backwardWeights && binding.reduceWeights) {
      const elements = inputs * outputs + outputs;
      dispatch(pass, this.ctx, this.kernels.linearBackwardWeights, 'linearBackwardWeights', binding.backwardWeights, this.agents * this.numChunks * elements);
      dispatch(pass, this.ctx, this.kernels.linearReduceWeights, 'linearReduceWeights', binding.reduceWeights, this.agents * elements);
    }
  }

  destroy(): void {
    this.uniform.destroy();
    this.partials.destroy();
  }
}
