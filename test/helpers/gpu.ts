/** GPU test helpers: one Dawn context per test file, failing loudly on any uncaptured WebGPU error. */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { GpuContext } from '../../src/platform/gpu-context.ts';
import { createNodeGpuContext } from '../../src/platform/node.ts';

export function useGpu(): () => GpuContext {
  let ctx: GpuContext | undefined;
  beforeAll(async () => {
    // No skip path on purpose: a machine without an adapter must fail these tests, not pass them empty.
    ctx = await createNodeGpuContext();
  });
  afterEach(async () => {
    if (!ctx) return;
    await ctx.device.queue.onSubmittedWorkDone();
    const errors = ctx.errors.splice(0);
    if (errors.length > 0) throw new Error(`uncaptured WebGPU error(s):\n${errors.join('\n')}`);
  });
  afterAll(() => ctx?.destroy());
  return () => {
    if (!ctx) throw new Error('GPU context not created');
    return ctx;
  };
}
