/**
 * The platform seam: everything the core needs from its host. Node (src/platform/node.ts) and the
 * browser (src/platform/browser.ts) each build one; the core never imports `fs` or `navigator`.
 */
export interface GpuContext {
  readonly device: GPUDevice;
  /** e.g. "mesa / llvmpipe (LLVM …)": printed by the CLI and benchmarks. */
  readonly adapterName: string;
  /** WGSL text of `shaders/<stem>.wgsl`. */
  shaderSource(stem: string): string;
  /** Uncaptured WebGPU errors seen so far (validation, out-of-memory, internal, device lost). */
  readonly errors: string[];
  /** Throws the first uncaptured error, if any: call after work that must have been valid. */
  throwIfErrors(): void;
  destroy(): void;
}

/** Limits worth raising to the adapter's maximum: bigger N, more buffers per kernel. */
export const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
] as const;

export function requiredLimitsFor(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) limits[name] = adapter.limits[name];
  return limits;
}

export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((p) => p && String(p).length > 0);
  return parts.length > 0 ? [...new Set(parts)].join(' / ') : 'unknown adapter';
}

/** Shared by both platforms: wires uncaptured errors and device loss into `errors`. */
export function makeContext(device: GPUDevice, adapter: GPUAdapter, shaderSource: (stem: string) => string, keepAlive?: unknown): GpuContext {
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    errors.push(`${error.constructor?.name ?? 'GPUError'}: ${error.message}`);
  });
  let destroyed = false;
  void device.lost.then((info) => {
    if (!destroyed) errors.push(`device lost (${info.reason}): ${info.message}`);
  });
  return {
    device,
    adapterName: describeAdapter(adapter),
    shaderSource,
    errors,
    // Held here so the Dawn instance lives exactly as long as the context that uses its device.
    ...(keepAlive === undefined ? {} : { keepAlive }),
    throwIfErrors() {
      if (errors.length > 0) throw new Error(`WebGPU error: ${errors[0]}`);
    },
    destroy() {
      destroyed = true;
      device.destroy();
    },
  };
}

export class NoAdapterError extends Error {}
