import { describe, expect, it } from 'vitest';
import { bindGroup, createKernel, createStorageBuffer, dispatch, readBuffer } from '../../src/gpu/kernel.ts';
import { rngU32, rngUniform } from '../../src/rng.ts';
import { useGpu } from '../helpers/gpu.ts';

describe('counter-based RNG: WGSL and TypeScript streams', () => {
  const gpu = useGpu();

  it('are bit-identical over 100 000 keys, edge words included', async () => {
    const ctx = gpu();
    const n = 100_000;
    const keys = new Uint32Array(n * 4);
    const edges = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff];
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 4; k++) keys[i * 4 + k] = i < 625 ? edges[Math.floor(i / 5 ** k) % 5] : Math.imul(i, 2654435761 + k * 97) >>> 0;
    }
    const kernel = createKernel(ctx, { label: 'rngCheck', stems: ['rng', 'rng_check'], bindings: ['read-only-storage', 'storage'], entryPoints: ['rngCheck'] });
    const keysBuffer = createStorageBuffer(ctx, 'keys', keys.byteLength);
    const drawsBuffer = createStorageBuffer(ctx, 'draws', n * 8);
    ctx.device.queue.writeBuffer(keysBuffer, 0, keys);
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    dispatch(pass, ctx, kernel, 'rngCheck', bindGroup(ctx, kernel, 'rngCheck', [keysBuffer, drawsBuffer]), n);
    pass.end();
    ctx.device.queue.submit([encoder.finish()]);
    const draws = new Uint32Array(await readBuffer(ctx, drawsBuffer, n * 8));
    const f32 = new Float32Array(1);
    const bits = new Uint32Array(f32.buffer);
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const [a, b, c, d] = keys.subarray(i * 4, i * 4 + 4);
      f32[0] = rngUniform(a, b, c, d);
      if (draws[i * 2] !== rngU32(a, b, c, d) || draws[i * 2 + 1] !== bits[0]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('draws uniforms in [0, 1) with the mean and spread of U(0, 1)', () => {
    let sum = 0, sumSq = 0, min = 1, max = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const u = rngUniform(42, 7, i, 3);
      sum += u; sumSq += u * u; min = Math.min(min, u); max = Math.max(max, u);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sumSq / n - sum * sum / n / n - 1 / 12)).toBeLessThan(0.002);
  });
});
