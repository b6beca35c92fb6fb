import { describe, expect, it } from 'vitest';
import { linearBackward, linearForward } from '../../src/cpu/linear.ts';
import { createStorageBuffer, readBuffer } from '../../src/gpu/kernel.ts';
import { LinearOp } from '../../src/ops/linear.ts';
import { rngUniform } from '../../src/rng.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

function values(count: number, seed: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => rngUniform(seed, 31, i, 0) * 2 - 1);
}

async function runGpu(rows: number, inputs: number, outputs: number, agents: number, seed: number) {
  const ctx = gpu();
  const host = {
    x: values(agents * rows * inputs, seed),
    w: values(agents * inputs * outputs, seed + 1),
    bias: values(agents * outputs, seed + 2),
    dOut: values(agents * rows * outputs, seed + 3),
  };
  const upload = (label: string, data: Float32Array) => {
    const b = createStorageBuffer(ctx, label, data.byteLength);
    ctx.device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
    return b;
  };
  const buffers = {
    x: upload('x', host.x),
    w: upload('w', host.w),
    bias: upload('bias', host.bias),
    dOut: upload('dOut', host.dOut),
    out: createStorageBuffer(ctx, 'out', agents * rows * outputs * 4),
    dX: createStorageBuffer(ctx, 'dX', agents * rows * inputs * 4),
    dW: createStorageBuffer(ctx, 'dW', agents * inputs * outputs * 4),
    dBias: createStorageBuffer(ctx, 'dBias', agents * outputs * 4),
  };
  const op = new LinearOp(ctx, { rows, inputs, outputs, agents });
  const binding = op.bind(buffers);
  const run = async () => {
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    op.encodeForward(pass, binding);
    op.encodeBackward(pass, binding);
    pass.end();
    ctx.device.queue.submit([encoder.finish()]);
    const read = async (b: GPUBuffer) => new Float32Array(await readBuffer(ctx, b));
    return { out: await read(buffers.out), dX: await read(buffers.dX), dW: await read(buffers.dW), dBias: await read(buffers.dBias) };
  };
  const first = await run();
  const second = await run();
  op.destroy();
  for (const b of Object.values(buffers)) b.destroy();
  return { host, first, second };
}

/** Worst |gpu − cpu| relative to the scale of the terms summed (f32 vs f64 sums). */
function worstError(gpu: Float32Array, cpu: Float64Array, scale: number): number {
  let worst = 0;
  for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(gpu[i] - cpu[i]) / scale);
  return worst;
}

describe('linear layer on the GPU vs src/cpu/linear.ts', () => {
  const cases: [number, number, number, number][] = [];
  for (const rows of [1, 63, 64, 65, 4097]) for (const agents of [1, 3]) cases.push([rows, 4, 5, agents]);
  cases.push([1_400_001, 4, 3, 1]); // 4.2M outputs: more than 65,535 workgroups of 64, so the grid folds to 2-D
  for (const [rows, inputs, outputs, agents] of cases) {
    it(`B = ${rows}, K = ${inputs}, N = ${outputs}, G = ${agents}: forward, dX, dW, dBias; bit-identical when repeated`, async () => {
      const { host, first, second } = await runGpu(rows, inputs, outputs, agents, rows + agents);
      for (let g = 0; g < agents; g++) {
        const x = host.x.subarray(g * rows * inputs, (g + 1) * rows * inputs);
        const w = host.w.subarray(g * inputs * outputs, (g + 1) * inputs * outputs);
        const bias = host.bias.subarray(g * outputs, (g + 1) * outputs);
        const dOut = host.dOut.subarray(g * rows * outputs, (g + 1) * rows * outputs);
        const out = new Float64Array(rows * outputs);
        const dX = new Float64Array(rows * inputs);
        const dW = new Float64Array(inputs * outputs);
        const dBias = new Float64Array(outputs);
        linearForward(out, x, w, bias, rows, inputs, outputs);
        linearBackward(dX, dW, dBias, dOut, x, w, rows, inputs, outputs);
        const at = (a: Float32Array, size: number) => a.subarray(g * size, (g + 1) * size);
        expect(worstError(at(first.out, rows * outputs), out, inputs + 1)).toBeLessThan(1e-6);
        expect(worstError(at(first.dX, rows * inputs), dX, outputs)).toBeLessThan(1e-6);
        // Sums of B random terms: their size and the f32 error both grow like sqrt(B).
        expect(worstError(at(first.dW, inputs * outputs), dW, Math.sqrt(rows))).toBeLessThan(1e-5);
        expect(worstError(at(first.dBias, outputs), dBias, Math.sqrt(rows))).toBeLessThan(1e-5);
      }
      for (const key of ['out', 'dX', 'dW', 'dBias'] as const) {
        expect(Buffer.from(first[key].buffer).equals(Buffer.from(second[key].buffer)), key).toBe(true);
      }
    });
  }
});
