/**
 * Browser side of the platform seam: `navigator.gpu` and shaders bundled by Vite (every file under
 * shaders/, the env modules in shaders/envs/ included, by the same stems Node reads from disk).
 */
import { makeContext, NoAdapterError, requiredLimitsFor, type GpuContext } from './gpu-context.ts';

const shaders = import.meta.glob('../../shaders/**/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

function shaderSource(stem: string): string {
  const text = shaders[`../../shaders/${stem}.wgsl`];
  if (text === undefined) throw new Error(`shader shaders/${stem}.wgsl not bundled`);
  return text;
}

export const NO_WEBGPU_MESSAGE =
  'This page needs WebGPU: use Chrome or Edge 113+ (desktop; on Linux enable chrome://flags/#enable-unsafe-webgpu), ' +
  'Safari 26+, or Firefox 141+ on Windows (Nightly elsewhere, dom.webgpu.enabled).';

export async function createBrowserGpuContext(): Promise<GpuContext> {
  if (!('gpu' in navigator) || !navigator.gpu) throw new NoAdapterError(NO_WEBGPU_MESSAGE);
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new NoAdapterError(`${NO_WEBGPU_MESSAGE} (navigator.gpu exists but gave no adapter)`);
  const device = await adapter.requestDevice({ label: 'webgpu-rl', requiredLimits: requiredLimitsFor(adapter) });
  return makeContext(device, adapter, shaderSource);
}
