/**
 * PPO's minibatch shuffle: ppo_permute (shaders/ppo_shuffle.wgsl) against ppoPermute (src/cpu/ppo.ts) bit for
 * bit at awkward batch sizes (1, powers of two and their neighbours, past 2^12, a million rows dispatched
 * over more than 65,535 workgroups), and the permutation's own properties on the CPU side. The WGSL also
 * compiles under wgpu/naga (Firefox): test/platform/naga.test.ts lists its check module.
 */
import { describe, expect, it } from 'vitest';
import { ppoPermutation, ppoPermute } from '../../src/cpu/ppo.ts';
import { bindGroup, createKernel, createStorageBuffer, createUniformBuffer, dispatch, readBuffer, workgroupGrid } from '../../src/gpu/kernel.ts';
import { RNG_STREAM_PPO_SHUFFLE, rngU32 } from '../../src/rng.ts';
import { useGpu } from '../helpers/gpu.ts';

const CHECK_SPEC = { label: 'ppoShuffleCheck', stems: ['rng', 'ppo_shuffle', 'ppo_shuffle_check'], bindings: ['uniform', 'storage'] as const, entryPoints: ['ppoShuffleCheck'] };
/** Small workgroups so that the million-row batch needs a 2-D grid (over 65,535 groups). */
const WORKGROUP_SIZE = 8;

const isIdentity = (perm: Uint32Array) => perm.every((v, j) => v === j);

function isBijection(perm: Uint32Array): boolean {
  const sorted = perm.slice().sort();
  return sorted.every((v, j) => v === j);
}

describe('ppo_permute (WGSL) and ppoPermute (TypeScript)', () => {
  const gpu = useGpu();

  it('agree bit for bit for every row, at awkward batch sizes and several keys', async () => {
    const ctx = gpu();
    const kernel = createKernel(ctx, { ...CHECK_SPEC, bindings: [...CHECK_SPEC.bindings], constants: { workgroup_size: WORKGROUP_SIZE } });
    expect(workgroupGrid(1_000_003, WORKGROUP_SIZE, ctx.device.limits.maxComputeWorkgroupsPerDimension)[1]).toBeGreaterThan(1);
    const cases: [seed: number, update: number, epoch: number, batch: number][] = [
      [1, 0, 0, 1], [1, 0, 0, 2], [7, 3, 1, 2], [1, 0, 0, 63], [0xffffffff, 12345, 999, 63], [2, 5, 3, 64], [42, 0, 0, 65],
      [42, 1, 0, 65], [3, 77, 2, 4097], [0x80000000, 0xffffffff, 7, 4097], [1, 9, 0, 1_000_003], [5, 0, 999, 1_000_003],
    ];
    const keyBuffers = cases.map((_, k) => createUniformBuffer(ctx, `key ${k}`, 16));
    const permBuffers = cases.map(([, , , batch], k) => createStorageBuffer(ctx, `perm ${k}`, batch * 4));
    cases.forEach((key, k) => ctx.device.queue.writeBuffer(keyBuffers[k], 0, Uint32Array.from(key)));
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    cases.forEach(([, , , batch], k) => dispatch(pass, ctx, kernel, 'ppoShuffleCheck', bindGroup(ctx, kernel, `case ${k}`, [keyBuffers[k], permBuffers[k]]), batch));
    pass.end();
    ctx.device.queue.submit([encoder.finish()]);
    for (const [k, [seed, update, epoch, batch]] of cases.entries()) {
      const gpuPerm = new Uint32Array(await readBuffer(ctx, permBuffers[k], batch * 4));
      const cpuPerm = ppoPermutation(seed, update, epoch, batch);
      let mismatches = 0;
      for (let j = 0; j < batch; j++) if (gpuPerm[j] !== cpuPerm[j]) mismatches++;
      expect(mismatches, `seed ${seed} update ${update} epoch ${epoch} batch ${batch}`).toBe(0);
      expect(isBijection(gpuPerm), `batch ${batch}`).toBe(true);
      if (batch > 2) expect(isIdentity(gpuPerm), `batch ${batch} shuffled`).toBe(false);
    }
    for (const b of [...keyBuffers, ...permBuffers]) b.destroy();
  });
});

describe('ppoPermutation (CPU)', () => {
  it('is a bijection of [0, batch) at every size from 1 to 300 and at awkward larger ones', () => {
    for (let batch = 1; batch <= 300; batch++) expect(isBijection(ppoPermutation(batch, batch % 7, batch % 3, batch)), `batch ${batch}`).toBe(true);
    for (const batch of [1023, 1024, 1025, 4095, 4096, 4097, 65_535, 65_536, 65_537, 100_003]) {
      expect(isBijection(ppoPermutation(3, 1, 2, batch)), `batch ${batch}`).toBe(true);
    }
  });

  it('gives [0] for a batch of one and moves rows for anything larger', () => {
    expect(Array.from(ppoPermutation(123, 4, 5, 1))).toEqual([0]);
    for (const batch of [3, 16, 128, 2048]) expect(isIdentity(ppoPermutation(1, 0, 0, batch)), `batch ${batch}`).toBe(false);
  });

  it('gives a different order for each epoch, update and seed', () => {
    const batch = 512;
    const base = ppoPermutation(1, 10, 2, batch);
    const others = [ppoPermutation(1, 10, 3, batch), ppoPermutation(1, 11, 2, batch), ppoPermutation(2, 10, 2, batch), ppoPermutation(1, 10, 0, batch)];
    for (const other of others) {
      let same = 0;
      for (let j = 0; j < batch; j++) if (other[j] === base[j]) same++;
      // Two independent permutations share about one fixed point; allow a handful.
      expect(same).toBeLessThan(10);
    }
    // The same key gives the same order.
    expect(Array.from(ppoPermutation(1, 10, 2, batch))).toEqual(Array.from(base));
  });

  it('spreads rows over the minibatches: each minibatch of 4 draws from the whole batch', () => {
    // A shuffle that kept the rows near their place would leave minibatch 0 with rows < B/4.
    const batch = 1024;
    const perm = ppoPermutation(9, 0, 0, batch);
    const firstQuarter = perm.subarray(0, batch / 4);
    const fromEachQuarter = [0, 1, 2, 3].map((q) => firstQuarter.filter((row) => Math.floor(row / (batch / 4)) === q).length);
    for (const n of fromEachQuarter) expect(n).toBeGreaterThan(30);
  });

  it('follows the written algorithm: one Feistel pass from i when it lands in range (hand-traced for batch 16)', () => {
    // batch 16: bits 4, h 2, mask 3; 2^bits = 16 = batch, so every pass lands in range: no walking.
    const [seed, update, epoch] = [5, 6, 7];
    for (let i = 0; i < 16; i++) {
      let l = i >> 2, r = i & 3;
      for (let k = 0; k < 4; k++) [l, r] = [r, l ^ (rngU32(seed, RNG_STREAM_PPO_SHUFFLE + 4 * epoch + k, r, update) & 3)];
      expect(ppoPermute(seed, update, epoch, 16, i)).toBe((l << 2) | r);
    }
  });

  it('rejects a batch of 0 and indices outside the batch', () => {
    expect(() => ppoPermute(1, 0, 0, 0, 0)).toThrow(RangeError);
    expect(() => ppoPermute(1, 0, 0, 10, 10)).toThrow(RangeError);
    expect(() => ppoPermute(1, 0, 0, 10, -1)).toThrow(RangeError);
  });
});
