/**
 * Small WebGPU helpers shared by every kernel: shader modules, explicit bind group layouts,
 * 2-D dispatch folding, buffers checked against the adapter's limits, and readback.
 */
import type { GpuContext } from '../platform/gpu-context.ts';

/** 'dynamic-uniform': a uniform bound with a dynamic offset (one small record per dispatch, one bind group). */
export type BindingKind = 'uniform' | 'dynamic-uniform' | 'storage' | 'read-only-storage';

/** A shader file under shaders/ by stem ('rng', 'envs/acrobot'), or source text that is no file there (a user's env module). */
export type ShaderPart = string | { label: string; code: string };

export interface KernelSpec {
  label: string;
  /** Shader parts concatenated in order, e.g. ['envs/cartpole', 'rng', 'env_interface', 'vec_env']. */
  stems: ShaderPart[];
  /** Binding kinds of group 0, by binding index (null: a binding this kernel's entry points do not use). */
  bindings: (BindingKind | null)[];
  entryPoints: string[];
  constants?: Record<string, number>;
}

export interface Kernel {
  readonly layout: GPUBindGroupLayout;
  readonly pipelines: Record<string, GPUComputePipeline>;
  readonly workgroupSize: number;
}

const moduleCache = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

/** The WGSL text of a kernel: its parts concatenated in order. */
export function shaderCode(ctx: Pick<GpuContext, 'shaderSource'>, stems: ShaderPart[]): string {
  return stems.map((s) => (typeof s === 'string' ? ctx.shaderSource(s) : s.code)).join('\n');
}

function shaderModule(ctx: GpuContext, stems: ShaderPart[]): GPUShaderModule {
  let cache = moduleCache.get(ctx.device);
  if (!cache) moduleCache.set(ctx.device, (cache = new Map()));
  const code = shaderCode(ctx, stems);
  const key = stems.map((s) => (typeof s === 'string' ? s : s.label)).join('+');
  // Keyed by the text too: two user modules may share a label.
  let module = cache.get(code);
  if (!module) {
    module = ctx.device.createShaderModule({ label: key, code });
    cache.set(code, module);
  }
  return module;
}

export function createKernel(ctx: GpuContext, spec: KernelSpec): Kernel {
  const { device } = ctx;
  const layout = device.createBindGroupLayout({
    label: spec.label,
    entries: spec.bindings.flatMap((type, binding) =>
      type === null ? [] : [{ binding, visibility: GPUShaderStage.COMPUTE, buffer: type === 'dynamic-uniform' ? { type: 'uniform' as const, hasDynamicOffset: true } : { type } }],
    ),
  });
  const module = shaderModule(ctx, spec.stems);
  const workgroupSize = spec.constants?.workgroup_size ?? 64;
  const pipelines: Record<string, GPUComputePipeline> = {};
  for (const entryPoint of spec.entryPoints) {
    pipelines[entryPoint] = device.createComputePipeline({
      label: `${spec.label}.${entryPoint}`,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint, constants: { workgroup_size: workgroupSize, ...spec.constants } },
    });
  }
  return { layout, pipelines, workgroupSize };
}

/**
 * A bind group over `buffers` by binding index (null where the kernel's layout has a hole); a
 * GPUBufferBinding ({ buffer, size }) binds part of a buffer, as a dynamic-uniform binding needs.
 */
export function bindGroup(ctx: GpuContext, kernel: Kernel, label: string, buffers: (GPUBuffer | GPUBufferBinding | null)[]): GPUBindGroup {
  return ctx.device.createBindGroup({
    label,
    layout: kernel.layout,
    entries: buffers.flatMap((item, binding) => (item === null ? [] : [{ binding, resource: 'buffer' in item ? item : { buffer: item } }])),
  });
}

/**
 * Workgroup counts (x, y) covering `invocations` threads. Beyond 65,535 workgroups the grid folds
 * into 2-D; kernels rebuild the flat index as (wid.y * num_workgroups.x + wid.x) * size + lid.x.
 */
export function workgroupGrid(invocations: number, workgroupSize: number, maxPerDimension = 65535): [number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  if (groups <= maxPerDimension) return [groups, 1];
  const y = Math.ceil(groups / maxPerDimension);
  if (y > maxPerDimension) throw new RangeError(`${invocations} invocations exceed maxComputeWorkgroupsPerDimension² workgroups`);
  return [Math.ceil(groups / y), y];
}

/**
 * Chromium (156) intermittently throws "cannot be converted to a sequence" on an explicit `undefined`
 * dynamic-offsets argument after a few thousand calls: pass offsets only when there are some.
 */
function setGroup(pass: GPUComputePassEncoder, group: GPUBindGroup, offsets?: number[]): void {
  if (offsets) pass.setBindGroup(0, group, offsets);
  else pass.setBindGroup(0, group);
}

/** `offsets`: the dynamic offsets of the group's dynamic-uniform bindings, in binding order. */
export function dispatch(pass: GPUComputePassEncoder, ctx: GpuContext, kernel: Kernel, entryPoint: string, group: GPUBindGroup, invocations: number, offsets?: number[]) {
  const [x, y] = workgroupGrid(invocations, kernel.workgroupSize, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  pass.setPipeline(kernel.pipelines[entryPoint]);
  setGroup(pass, group, offsets);
  pass.dispatchWorkgroups(x, y);
}

/** Dispatches exactly (x, y) workgroups (kernels that reduce in a fixed number of groups; y: agents). */
export function dispatchGroups(pass: GPUComputePassEncoder, kernel: Kernel, entryPoint: string, group: GPUBindGroup, x: number, y = 1, offsets?: number[]) {
  pass.setPipeline(kernel.pipelines[entryPoint]);
  setGroup(pass, group, offsets);
  pass.dispatchWorkgroups(x, y);
}

/** The largest element count whose per-element storage of `bytesPerElement` fits one binding. */
export function maxElementsForBinding(device: GPUDevice, bytesPerElement: number): number {
  const bytes = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  return Math.floor(bytes / bytesPerElement);
}

export function createStorageBuffer(ctx: GpuContext, label: string, byteLength: number, extraUsage = 0): GPUBuffer {
  const { limits } = ctx.device;
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (byteLength > limit) {
    throw new RangeError(`buffer "${label}" needs ${byteLength} bytes, beyond this adapter's maxStorageBufferBindingSize/maxBufferSize (${limit} bytes)`);
  }
  return ctx.device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(byteLength / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
  });
}

export function createUniformBuffer(ctx: GpuContext, label: string, byteLength: number): GPUBuffer {
  return ctx.device.createBuffer({ label, size: Math.ceil(byteLength / 16) * 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
}

/** Copies a buffer range back to the host. For tests and the step-by-step API, not the training loop. */
export async function readBuffer(ctx: GpuContext, source: GPUBuffer, byteLength = source.size, byteOffset = 0): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 4) * 4;
  const staging = ctx.device.createBuffer({ label: `${source.label}.readback`, size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = ctx.device.createCommandEncoder();
  encoder.copyBufferToBuffer(source, byteOffset, staging, 0, size);
  ctx.device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0, byteLength);
  staging.unmap();
  staging.destroy();
  return copy;
}
