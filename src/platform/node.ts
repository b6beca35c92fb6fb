/**
 * Node side of the platform seam: Dawn through the `webgpu` npm package, shaders read from disk.
 * Dawn crashes if the object returned by `create()` is garbage-collected while its device lives
 * (../shared/PLATFORM.md), so the context holds it, and so does the device itself.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { makeContext, NoAdapterError, requiredLimitsFor, type GpuContext } from './gpu-context.ts';

const shaderCache = new Map<string, string>();

function readShader(stem: string): string {
  let text = shaderCache.get(stem);
  if (text === undefined) {
    // src/platform/ and dist/src/platform/ both reach the package's shaders/ by walking up.
    const candidates = ['../../shaders/', '../../../shaders/'].map((rel) => new URL(`${rel}${stem}.wgsl`, import.meta.url));
    for (const url of candidates) {
      try {
        text = readFileSync(fileURLToPath(url), 'utf8');
        break;
      } catch {
        /* try the next layout */
      }
    }
    if (text === undefined) throw new Error(`shader shaders/${stem}.wgsl not found`);
    shaderCache.set(stem, text);
  }
  return text;
}

export const NO_ADAPTER_HINT =
  'no WebGPU adapter found: install a Vulkan driver (on Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1; ' +
  'on Ubuntu/Debian 13: apt-get install mesa-vulkan-drivers libvulkan1), or run `npm test` once, which installs it';

export async function createNodeGpuContext(): Promise<GpuContext> {
  // Dawn's Vulkan loader warns and sometimes fails without it; any writable directory will do.
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new NoAdapterError(NO_ADAPTER_HINT);
  const device = await adapter.requestDevice({ label: 'webgpu-rl', requiredLimits: requiredLimitsFor(adapter) });
  Object.defineProperty(device, '__dawnInstance', { value: gpu, enumerable: false });
  return makeContext(device, adapter, readShader, gpu);
}
