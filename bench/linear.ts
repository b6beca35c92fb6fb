/**
 * `bench linear`: the layer-by-layer kernels of shaders/linear.wgsl (src/ops/linear.ts) — forward (tanh
 * epilogue), backward to the input (tanh' prologue) and backward to the weights (both passes) — in
 * GFLOP/s = 2·R·K·N per kernel, against the CPU reference src/cpu/linear.ts timed in the same run.
 * Each kernel is first checked against the reference on a few rows, then timed until
 * `onSubmittedWorkDone`, so the figures include all of the GPU's work. R rows that do not fit one
 * storage binding run as several calls over one set of buffers in one command buffer, the weight
 * gradients accumulating (the trainer's chunked batch).
 */
import { linearBackward, linearBackwardInputActivated, linearForwardActivated } from '../src/cpu/linear.ts';
import { createStorageBuffer, maxElementsForBinding, readBuffer } from '../src/gpu/kernel.ts';
import { LinearOp, type LinearBinding, type LinearTiles } from '../src/ops/linear.ts';
import type { GpuContext } from '../src/platform/gpu-context.ts';
import { rngUniform } from '../src/rng.ts';

export type LinearKernel = 'forward' | 'backwardInput' | 'backwardWeights';
const KERNELS: LinearKernel[] = ['forward', 'backwardInput', 'backwardWeights'];

export interface LinearBenchRow {
  inputs: number;
  outputs: number;
  rows: number;
  /** Calls the R rows ran as (rows per call = R / calls). */
  calls: number;
  kernel: LinearKernel;
  gpuGflops: number;
  cpuGflops: number;
  /** Rows the CPU reference was timed at (its rate does not depend on R). */
  cpuRows: number;
}

export interface LinearBenchOptions {
  sizes: number[];
  /** (K, N) pairs; default 64×64, 4×64, 64×2. */
  shapes?: [number, number][];
  seconds: number;
  tiles?: LinearTiles;
}

const now = () => performance.now() / 1000;
const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => rngUniform(seed, 0x11ea, i, 0) * 2 - 1);

async function timeGpu(ctx: GpuContext, seconds: number, submit: () => void): Promise<number> {
  submit();
  await ctx.device.queue.onSubmittedWorkDone();
  let count = 0;
  const start = now();
  do {
    submit();
    await ctx.device.queue.onSubmittedWorkDone();
    count++;
  } while (now() - start < seconds);
  return count / (now() - start);
}

function timeCpu(seconds: number, work: () => void): number {
  let count = 0;
  const start = now();
  do {
    work();
    count++;
  } while (now() - start < seconds);
  return count / (now() - start);
}

/** Worst |gpu − cpu| over the first rows, relative to the largest |cpu|: a broken kernel is not timed. */
function check(what: string, gpu: Float32Array, cpu: Float64Array) {
  let scale = 1e-30;
  let worst = 0;
  for (let i = 0; i < cpu.length; i++) {
    scale = Math.max(scale, Math.abs(cpu[i]));
    worst = Math.max(worst, Math.abs(gpu[i] - cpu[i]));
  }
  if (!(worst <= 1e-4 * scale)) throw new Error(`bench linear: ${what} disagrees with src/cpu/linear.ts (${worst} of ${scale})`);
}

export async function benchLinear(ctx: GpuContext, options: LinearBenchOptions, onRow?: (r: LinearBenchRow) => void): Promise<LinearBenchRow[]> {
  const out: LinearBenchRow[] = [];
  for (const [K, N] of options.shapes ?? [[64, 64], [4, 64], [64, 2]]) {
    const fit = Math.floor(maxElementsForBinding(ctx.device, 4) / Math.max(K, N));
    for (const R of options.sizes) {
      const calls = Math.ceil(R / fit);
      const rows = Math.ceil(R / calls);
      const P = K * N + N;
      const host = { params: values(P, 1), x: values(rows * K, 2).map(Math.tanh), dY: values(rows * N, 3) };
      const upload = (label: string, data: Float32Array) => {
        const b = createStorageBuffer(ctx, label, data.byteLength);
        ctx.device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
        return b;
      };
      const buffers = {
        params: upload('params', host.params),
        x: upload('x', host.x),
        dY: upload('dY', host.dY),
        grads: createStorageBuffer(ctx, 'grads', P * 4),
        y: createStorageBuffer(ctx, 'y', rows * N * 4),
        dX: createStorageBuffer(ctx, 'dX', rows * K * 4),
      };
      const op = new LinearOp(ctx, { inputs: K, outputs: N, rows }, options.tiles);
      const common = { ...buffers, paramStride: P, weightOffset: 0, biasOffset: K * N, activation: 'tanh', inputActivation: 'tanh' } as const;
      const first = op.bind(common);
      const rest = op.bind({ ...common, accumulate: true });
      const encode = (kernel: LinearKernel, call: (pass: GPUComputePassEncoder, b: LinearBinding) => void) => () => {
        const encoder = ctx.device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        for (let c = 0; c < calls; c++) call(pass, kernel === 'backwardWeights' && c > 0 ? rest : first);
        pass.end();
        ctx.device.queue.submit([encoder.finish()]);
      };
      const run: Record<LinearKernel, () => void> = {
        forward: encode('forward', (pass, b) => op.encodeForward(pass, b)),
        backwardInput: encode('backwardInput', (pass, b) => op.encodeBackwardInput(pass, b)),
        backwardWeights: encode('backwardWeights', (pass, b) => op.encodeBackwardWeights(pass, b)),
      };

      // CPU reference on up to 4096 rows; its first rows check the GPU's.
      const cpuRows = Math.min(rows, 4096);
      const w = host.params.subarray(0, K * N);
      const bias = host.params.subarray(K * N, P);
      const x = host.x.subarray(0, cpuRows * K);
      const dY = host.dY.subarray(0, cpuRows * N);
      const ref = { y: new Float64Array(cpuRows * N), dX: new Float64Array(cpuRows * K), dW: new Float64Array(K * N), db: new Float64Array(N) };
      const cpu: Record<LinearKernel, () => void> = {
        forward: () => linearForwardActivated(ref.y, x, w, bias, cpuRows, K, N, 'tanh'),
        backwardInput: () => linearBackwardInputActivated(ref.dX, dY, x, w, cpuRows, K, N, 'tanh'),
        backwardWeights: () => linearBackward(null, ref.dW, ref.db, dY, x, w, cpuRows, K, N),
      };
      run.forward();
      run.backwardInput();
      cpu.forward();
      cpu.backwardInput();
      check(`forward ${K}x${N}`, new Float32Array(await readBuffer(ctx, buffers.y, cpuRows * N * 4)), ref.y);
      check(`backward input ${K}x${N}`, new Float32Array(await readBuffer(ctx, buffers.dX, cpuRows * K * 4)), ref.dX);

      for (const kernel of KERNELS) {
        const gpuPerSec = await timeGpu(ctx, options.seconds, run[kernel]);
        const cpuPerSec = timeCpu(options.seconds / 2, cpu[kernel]);
        const row = { inputs: K, outputs: N, rows: calls * rows, calls, kernel, gpuGflops: (gpuPerSec * calls * rows * 2 * K * N) / 1e9, cpuGflops: (cpuPerSec * cpuRows * 2 * K * N) / 1e9, cpuRows };
        out.push(row);
        onRow?.(row);
      }
      ctx.throwIfErrors();
      first.destroy();
      rest.destroy();
      op.destroy();
      for (const b of Object.values(buffers)) b.destroy();
    }
  }
  return out;
}

/** The Markdown table's header and cells, for cli/bench.ts. */
export function linearTable(rows: LinearBenchRow[]): [string[], string[][]] {
  const name: Record<LinearKernel, string> = { forward: 'forward', backwardInput: 'backward input', backwardWeights: 'backward weights' };
  return [
    ['K x N', 'R rows', 'kernel', 'GPU GFLOP/s', 'CPU ref GFLOP/s', 'GPU / CPU'],
    rows.map((r) => [
      `${r.inputs}x${r.outputs}`,
      r.calls > 1 ? `${r.rows} (${r.calls} calls)` : String(r.rows),
      name[r.kernel],
      r.gpuGflops.toFixed(2),
      r.cpuGflops.toFixed(2),
      `${(r.gpuGflops / r.cpuGflops).toFixed(1)}x`,
    ]),
  ];
}
