/**
 * The layer kernels of shaders/linear.wgsl (src/ops/linear.ts) against the plain-loop f64 reference
 * src/cpu/linear.ts: every entry point at R = 1, 63, 64, 65, 4097 rows × G = 1, 3 agents, for the shapes
 * the trainer schedules ((4, 64), (64, 64), (64, 2), (6, 256), (256, 1), (5, 3)) and every activation,
 * with W and b at offsets inside a flat [G × P] params buffer among other parameters (aligned offsets
 * with G = 1, unaligned with G = 3: both ways of reading W). Every case also checks that nothing outside
 * the layer's slice of grads and the call's rows is written, and that a second run gives the same bits.
 * Wider layers, whose columns split over several workgroups (K or N > 1,024: (2049, 3), (5, 1100),
 * (1030, 1025) at R = 1, 65 × G = 1, 2), the same way, with spare rows in the buffers that must stay
 * untouched; (300, 260) with the 4-column lanes the trainer uses on hardware adapters (split from 257
 * columns on); and agent 1 of G = 2 bit for bit against a one-agent run on its data.
 * Then: the accumulate mode over chunks, R below the buffers' row stride, > 65,535 workgroups (2-D grid).
 *
 * Tolerances, f32 GPU vs f64 CPU, per element relative to the sum of the magnitudes of its terms
 * (S = Σ|x·w| + |b| for y, Σ|dY·w| for dX, Σ|x·dY| for dW and Σ|dY| for db), plus an absolute 1e-6
 * for tanh's own rounding in f32 (an ulp or two of a value ≤ 1):
 *   y, dX   1e-6·S: one chain of K (y) or N (dX) FMAs in order, 64 per register tile; a chain of n
 *           f32 additions errs by at most ~n·2⁻²⁴·S, but with terms of both signs the error stays near
 *           2⁻²⁴·S whatever n (measured worst over the file: 0.29 of the tolerance, tanh's rounding where
 *           S is small; 0.22 for the 1030- and 1025-long chains of (1030, 1025))
 *   dW, db  1e-5·S: each lane sums ≤ 4096 rows in order, then the partials are summed in order
 *           (measured worst: 0.024 of the tolerance, at 1M rows)
 * Runtime on lavapipe (2 cores): ~21 s with Mesa's shader cache warm before the wide cases, which add
 * ~12 s (CPU time, measured on a loaded machine) and 16 pipelines to the 24 compiled cold (~1–2 s each).
 */
import { describe, expect, it } from 'vitest';
import { linearBackward, linearBackwardInputActivated, linearForwardActivated, type LinearActivation } from '../../src/cpu/linear.ts';
import { createStorageBuffer, readBuffer } from '../../src/gpu/kernel.ts';
import { LinearOp, type LinearBuffers, type LinearTiles } from '../../src/ops/linear.ts';
import { rngUniform } from '../../src/rng.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();
const ACTIVATIONS: LinearActivation[] = ['identity', 'tanh', 'relu'];
const SHAPES: [number, number][] = [[4, 64], [64, 64], [64, 2], [6, 256], [256, 1], [5, 3]];
const ROWS = [1, 63, 64, 65, 4097];
/**
 * (K, N, G, R) beyond 1,024 (64 lanes × 16) inputs, outputs or both; 1030 × 1025 (a 1M-parameter layer,
 * ~1 s of CPU reference per agent and activation at R = 65) at two of the four (G, R).
 */
const WIDE_CASES: [number, number, number, number][] = [
  ...[[2049, 3], [5, 1100]].flatMap(([K, N]) => [[1, 1], [1, 65], [2, 1], [2, 65]].map(([G, R]) => [K, N, G, R] as [number, number, number, number])),
  [1030, 1025, 1, 65],
  [1030, 1025, 2, 1],
];
const SENTINEL = 7.25;

function values(count: number, seed: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => rngUniform(seed, 0x11ea, i, 0) * 2 - 1);
}

const activate = (a: LinearActivation, v: number) => (a === 'tanh' ? Math.tanh(v) : a === 'relu' ? Math.max(0, v) : v);

/** A flat parameter buffer of G agents: P parameters each, the layer's W and b at offsets among others. */
function paramLayout(K: number, N: number, aligned: boolean) {
  const weightOffset = aligned ? 8 : 5;
  const biasOffset = weightOffset + K * N + (aligned ? 4 : 3);
  const P = biasOffset + N + (aligned ? 4 : 2);
  return { weightOffset, biasOffset, P };
}

/** One LinearOp per (shape, G) for the whole file: Dawn reuses a live pipeline for an identical descriptor. */
const ops = new Map<string, LinearOp>();
function opFor(K: number, N: number, G: number, rows = 4097, tiles?: LinearTiles): LinearOp {
  const key = `${K} ${N} ${G} ${rows} ${JSON.stringify(tiles)}`;
  let op = ops.get(key);
  if (!op) ops.set(key, (op = new LinearOp(gpu(), { inputs: K, outputs: N, agents: G, rows }, tiles)));
  return op;
}

interface Host {
  params: Float32Array;
  x: Float32Array;
  dY: Float32Array;
}

function upload(data: Float32Array, label: string): GPUBuffer {
  const ctx = gpu();
  const b = createStorageBuffer(ctx, label, data.byteLength);
  ctx.device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
  return b;
}

const read = async (b: GPUBuffer) => new Float32Array(await readBuffer(gpu(), b));

/** The CPU reference of one agent, and the magnitudes of the terms each element sums. */
function reference(host: Host, g: number, K: number, N: number, S: number, R: number, layout: ReturnType<typeof paramLayout>, act: LinearActivation, inAct: LinearActivation) {
  const { P, weightOffset, biasOffset } = layout;
  const w = host.params.subarray(g * P + weightOffset, g * P + weightOffset + K * N);
  const b = host.params.subarray(g * P + biasOffset, g * P + biasOffset + N);
  const x = host.x.subarray(g * S * K, (g * S + R) * K);
  const dY = host.dY.subarray(g * S * N, (g * S + R) * N);
  const abs = (a: Float32Array) => a.map(Math.abs);
  const out = { y: new Float64Array(R * N), dX: new Float64Array(R * K), dW: new Float64Array(K * N), db: new Float64Array(N) };
  const mag = { y: new Float64Array(R * N), dX: new Float64Array(R * K), dW: new Float64Array(K * N), db: new Float64Array(N) };
  linearForwardActivated(out.y, x, w, b, R, K, N, act);
  linearBackwardInputActivated(out.dX, dY, x, w, R, K, N, inAct);
  linearBackward(null, out.dW, out.db, dY, x, w, R, K, N);
  linearForwardActivated(mag.y, abs(x), abs(w), abs(b), R, K, N, 'identity');
  linearBackwardInputActivated(mag.dX, abs(dY), x, abs(w), R, K, N, 'identity');
  linearBackward(null, mag.dW, mag.db, abs(dY), abs(x), w, R, K, N);
  return { out, mag };
}

/** Worst |gpu − cpu| / (S + 1e-6 / tol) over elements: ≤ tol passes. */
function worst(gpuValues: ArrayLike<number>, cpu: Float64Array, mag: Float64Array, tol: number): number {
  let w = 0;
  for (let i = 0; i < cpu.length; i++) w = Math.max(w, Math.abs(gpuValues[i] - cpu[i]) / (mag[i] + 1e-6 / tol));
  return Number.isNaN(w) ? Infinity : w;
}

const sameBits = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

interface CaseResult {
  y: Float32Array;
  dX: Float32Array;
  grads: Float32Array;
}

/**
 * Runs forward, backward input and backward weights (overwriting grads pre-filled with SENTINEL) for one
 * activation pair; returns what the GPU holds afterwards.
 */
async function runCase(op: LinearOp, buffers: LinearBuffers & { y: GPUBuffer; dX: GPUBuffer; grads: GPUBuffer }, sentinels: { y: Float32Array; dX: Float32Array; grads: Float32Array }): Promise<CaseResult> {
  const ctx = gpu();
  ctx.device.queue.writeBuffer(buffers.y, 0, sentinels.y as Float32Array<ArrayBuffer>);
  ctx.device.queue.writeBuffer(buffers.dX, 0, sentinels.dX as Float32Array<ArrayBuffer>);
  ctx.device.queue.writeBuffer(buffers.grads, 0, sentinels.grads as Float32Array<ArrayBuffer>);
  const binding = op.bind(buffers);
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  op.encodeForward(pass, binding);
  op.encodeBackwardInput(pass, binding);
  op.encodeBackwardWeights(pass, binding);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  const result = { y: await read(buffers.y), dX: await read(buffers.dX), grads: await read(buffers.grads) };
  binding.destroy();
  return result;
}

/**
 * Forward, backward input and backward weights of one (K, N, G, R) for every activation, each run twice
 * (same bits), against the reference per agent. S = R + spareRows rows per agent: the spare rows of y and
 * dX, pre-filled with SENTINEL, must stay so, as must grads outside the layer's slices.
 */
async function checkLayer(K: number, N: number, G: number, R: number, spareRows = 0, tiles?: LinearTiles): Promise<void> {
  const layout = paramLayout(K, N, G === 1);
  const S = R + spareRows; // rows per agent in the activation buffers
  const seed = K * 7919 + N * 131 + G * 17 + R;
  const host: Host = { params: values(G * layout.P, seed), x: values(G * S * K, seed + 1), dY: values(G * S * N, seed + 2) };
  const buffers = {
    params: upload(host.params, 'params'),
    x: upload(host.x, 'x'),
    dY: upload(host.dY, 'dY'),
    y: createStorageBuffer(gpu(), 'y', G * S * N * 4),
    dX: createStorageBuffer(gpu(), 'dX', G * S * K * 4),
    grads: createStorageBuffer(gpu(), 'grads', G * layout.P * 4),
  };
  const spare = spareRows > 0 ? SENTINEL : 0;
  const sentinels = { y: new Float32Array(G * S * N).fill(spare), dX: new Float32Array(G * S * K).fill(spare), grads: new Float32Array(G * layout.P).fill(SENTINEL) };
  const op = opFor(K, N, G, 4097, tiles);
  for (const act of ACTIVATIONS) {
    // x plays the previous layer's output: for tanh/relu prologues it must lie in that activation's range.
    const inAct = act;
    const x = host.x.map((v) => activate(inAct, v));
    gpu().device.queue.writeBuffer(buffers.x, 0, x as Float32Array<ArrayBuffer>);
    const caseHost = { ...host, x };
    const base = { ...buffers, paramStride: layout.P, weightOffset: layout.weightOffset, biasOffset: layout.biasOffset, rows: R, rowStride: S, activation: act, inputActivation: inAct };
    const first = await runCase(op, base, sentinels);
    const second = await runCase(op, base, sentinels);
    for (const key of ['y', 'dX', 'grads'] as const) expect(sameBits(first[key], second[key]), `${act}: ${key} bit-repeatable`).toBe(true);
    for (let g = 0; g < G; g++) {
      const { out, mag } = reference(caseHost, g, K, N, S, R, layout, act, inAct);
      const at = (a: Float32Array, from: number, size: number) => a.subarray(from, from + size);
      const P = layout.P;
      expect(worst(at(first.y, g * S * N, R * N), out.y, mag.y, 1e-6), `${act}: y of agent ${g}`).toBeLessThanOrEqual(1e-6);
      expect(worst(at(first.dX, g * S * K, R * K), out.dX, mag.dX, 1e-6), `${act}: dX of agent ${g}`).toBeLessThanOrEqual(1e-6);
      expect(worst(at(first.grads, g * P + layout.weightOffset, K * N), out.dW, mag.dW, 1e-5), `${act}: dW of agent ${g}`).toBeLessThanOrEqual(1e-5);
      expect(worst(at(first.grads, g * P + layout.biasOffset, N), out.db, mag.db, 1e-5), `${act}: db of agent ${g}`).toBeLessThanOrEqual(1e-5);
      expect(at(first.y, (g * S + R) * N, spareRows * N).every((v) => v === SENTINEL), `${act}: y rows ≥ R of agent ${g} untouched`).toBe(true);
      expect(at(first.dX, (g * S + R) * K, spareRows * K).every((v) => v === SENTINEL), `${act}: dX rows ≥ R of agent ${g} untouched`).toBe(true);
      // Nothing outside the layer's slices of grads is written.
      for (let i = 0; i < P; i++) {
        const inside = (i >= layout.weightOffset && i < layout.weightOffset + K * N) || (i >= layout.biasOffset && i < layout.biasOffset + N);
        if (!inside && first.grads[g * P + i] !== SENTINEL) expect.fail(`${act}: grads[${g}·P + ${i}] outside the layer was written`);
      }
    }
  }
  for (const b of Object.values(buffers)) b.destroy();
}

describe('linear layer kernels vs src/cpu/linear.ts', () => {
  for (const [K, N] of SHAPES) {
    for (const G of [1, 3]) {
      for (const R of ROWS) {
        it(`K = ${K}, N = ${N}, G = ${G}, R = ${R}: every activation, flat params (${G === 1 ? 'aligned' : 'unaligned'} offsets), bit-repeatable`, () => checkLayer(K, N, G, R));
      }
    }
  }

  // Wider than one workgroup's lanes (64 × 16 columns): the forward's outputs (N), the backward's inputs
  // (K) or both split over column groups; both parities of width and both ways of reading W.
  for (const [K, N, G, R] of WIDE_CASES) {
    it(`wide: K = ${K}, N = ${N}, G = ${G}, R = ${R}: every activation, ${G === 1 ? 'aligned' : 'unaligned'} offsets, bit-repeatable, spare rows untouched`, () => checkLayer(K, N, G, R, 2));
  }

  // The tiles src/trainer/layered.ts gives a hardware adapter: 4 columns a lane, so 257 already split.
  it('wide: K = 300, N = 260, G = 2, R = 65 with 4 columns a lane (1 vec4) and 64-row tiles: every activation, spare rows untouched', () =>
    checkLayer(300, 260, 2, 65, 2, { forward4: 1, backwardInput4: 1, weightsK4: 1, weightsN4: 1, tileRows: 64 }));

  it('wide: agent 1 of G = 2 gives the bits of a one-agent run on its data (K = 1030, N = 1025, R = 65)', async () => {
    const [K, N, R] = [1030, 1025, 65];
    const results: CaseResult[] = [];
    const host = { params: values(2 * K * N + 2 * N, 61), x: values(2 * R * K, 62).map(Math.tanh), dY: values(2 * R * N, 63) };
    for (const G of [2, 1]) {
      const P = K * N + N;
      const [data, agent] = G === 2 ? [0, 1] : [1, 0]; // G = 1 runs agent 1's data as its agent 0
      const buffers = {
        params: upload(host.params.slice(data * P), 'params'),
        x: upload(host.x.slice(data * R * K), 'x'),
        dY: upload(host.dY.slice(data * R * N), 'dY'),
        y: createStorageBuffer(gpu(), 'y', G * R * N * 4),
        dX: createStorageBuffer(gpu(), 'dX', G * R * K * 4),
        grads: createStorageBuffer(gpu(), 'grads', G * P * 4),
      };
      const sentinels = { y: new Float32Array(G * R * N), dX: new Float32Array(G * R * K), grads: new Float32Array(G * P) };
      const args = { ...buffers, paramStride: P, weightOffset: 0, biasOffset: K * N, rows: R, activation: 'tanh', inputActivation: 'tanh' } as const;
      const result = await runCase(opFor(K, N, G), args, sentinels);
      const one = (values: Float32Array, size: number) => values.slice(agent * size, (agent + 1) * size);
      results.push({ y: one(result.y, R * N), dX: one(result.dX, R * K), grads: one(result.grads, P) });
      for (const b of Object.values(buffers)) b.destroy();
    }
    const [agent1, alone] = results;
    for (const key of ['y', 'dX', 'grads'] as const) expect(sameBits(agent1[key], alone[key]), key).toBe(true);
  });

  it('accumulate: a batch in two chunks through one command buffer adds into grads that held other values', async () => {
    const [K, N, G, R] = [64, 64, 3, 300];
    const layout = paramLayout(K, N, false);
    const host = { params: values(G * layout.P, 91), x1: values(G * R * K, 92), x2: values(G * R * K, 93), dY1: values(G * R * N, 94), dY2: values(G * R * N, 95) };
    const prior = values(G * layout.P, 96);
    const grads = upload(prior, 'grads');
    const buffers = { params: upload(host.params, 'params'), x1: upload(host.x1, 'x1'), x2: upload(host.x2, 'x2'), dY1: upload(host.dY1, 'dY1'), dY2: upload(host.dY2, 'dY2') };
    const op = opFor(K, N, G);
    const common = { params: buffers.params, grads, paramStride: layout.P, weightOffset: layout.weightOffset, biasOffset: layout.biasOffset, rows: R };
    const chunk1 = op.bind({ ...common, x: buffers.x1, dY: buffers.dY1, accumulate: true });
    const chunk2 = op.bind({ ...common, x: buffers.x2, dY: buffers.dY2, accumulate: true });
    const ctx = gpu();
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    op.encodeBackwardWeights(pass, chunk1);
    op.encodeBackwardWeights(pass, chunk2);
    pass.end();
    ctx.device.queue.submit([encoder.finish()]);
    const result = await read(grads);
    for (let g = 0; g < G; g++) {
      const P = layout.P;
      const expected = { dW: new Float64Array(K * N), db: new Float64Array(N) };
      const magnitude = { dW: new Float64Array(K * N), db: new Float64Array(N) };
      for (const [x, dY] of [[host.x1, host.dY1], [host.x2, host.dY2]]) {
        const part = { dW: new Float64Array(K * N), db: new Float64Array(N) };
        const xs = x.subarray(g * R * K, (g + 1) * R * K);
        const ds = dY.subarray(g * R * N, (g + 1) * R * N);
        linearBackward(null, part.dW, part.db, ds, xs, [], R, K, N);
        for (let i = 0; i < K * N; i++) expected.dW[i] += part.dW[i];
        for (let i = 0; i < N; i++) expected.db[i] += part.db[i];
        linearBackward(null, part.dW, part.db, ds.map(Math.abs), xs.map(Math.abs), [], R, K, N);
        for (let i = 0; i < K * N; i++) magnitude.dW[i] += part.dW[i];
        for (let i = 0; i < N; i++) magnitude.db[i] += part.db[i];
      }
      for (let i = 0; i < K * N; i++) {
        expected.dW[i] += prior[g * P + layout.weightOffset + i];
        magnitude.dW[i] += Math.abs(prior[g * P + layout.weightOffset + i]);
      }
      for (let i = 0; i < N; i++) {
        expected.db[i] += prior[g * P + layout.biasOffset + i];
        magnitude.db[i] += Math.abs(prior[g * P + layout.biasOffset + i]);
      }
      expect(worst(result.subarray(g * P + layout.weightOffset), expected.dW, magnitude.dW, 1e-5)).toBeLessThanOrEqual(1e-5);
      expect(worst(result.subarray(g * P + layout.biasOffset), expected.db, magnitude.db, 1e-5)).toBeLessThanOrEqual(1e-5);
      for (let i = 0; i < P; i++) {
        const inside = (i >= layout.weightOffset && i < layout.weightOffset + K * N) || (i >= layout.biasOffset && i < layout.biasOffset + N);
        if (!inside && result[g * P + i] !== prior[g * P + i]) expect.fail(`grads[${g}·P + ${i}] outside the layer was written`);
      }
    }
    chunk1.destroy();
    chunk2.destroy();
    grads.destroy();
    for (const b of Object.values(buffers)) b.destroy();
  });

  it('R below the buffers row stride: only the first R rows of each agent are read and written', async () => {
    const [K, N, G, R, S] = [64, 64, 3, 100, 130];
    const layout = paramLayout(K, N, true);
    const host: Host = { params: values(G * layout.P, 81), x: values(G * S * K, 82).map(Math.tanh), dY: values(G * S * N, 83) };
    const buffers = {
      params: upload(host.params, 'params'),
      x: upload(host.x, 'x'),
      dY: upload(host.dY, 'dY'),
      y: createStorageBuffer(gpu(), 'y', G * S * N * 4),
      dX: createStorageBuffer(gpu(), 'dX', G * S * K * 4),
      grads: createStorageBuffer(gpu(), 'grads', G * layout.P * 4),
    };
    const sentinels = { y: new Float32Array(G * S * N).fill(SENTINEL), dX: new Float32Array(G * S * K).fill(SENTINEL), grads: new Float32Array(G * layout.P).fill(SENTINEL) };
    const op = opFor(K, N, G);
    const result = await runCase(op, { ...buffers, paramStride: layout.P, weightOffset: layout.weightOffset, biasOffset: layout.biasOffset, rows: R, rowStride: S, activation: 'tanh', inputActivation: 'tanh' }, sentinels);
    for (let g = 0; g < G; g++) {
      const { out, mag } = reference(host, g, K, N, S, R, layout, 'tanh', 'tanh');
      expect(worst(result.y.subarray(g * S * N), out.y, mag.y, 1e-6)).toBeLessThanOrEqual(1e-6);
      expect(worst(result.dX.subarray(g * S * K), out.dX, mag.dX, 1e-6)).toBeLessThanOrEqual(1e-6);
      expect(worst(result.grads.subarray(g * layout.P + layout.weightOffset), out.dW, mag.dW, 1e-5)).toBeLessThanOrEqual(1e-5);
      expect(worst(result.grads.subarray(g * layout.P + layout.biasOffset), out.db, mag.db, 1e-5)).toBeLessThanOrEqual(1e-5);
      expect(result.y.subarray((g * S + R) * N, (g + 1) * S * N).every((v) => v === SENTINEL), 'y rows ≥ R untouched').toBe(true);
      expect(result.dX.subarray((g * S + R) * K, (g + 1) * S * K).every((v) => v === SENTINEL), 'dX rows ≥ R untouched').toBe(true);
    }
    for (const b of Object.values(buffers)) b.destroy();
  });

  it('rowOffset: a call on rows off .. off + R of each agent reads and writes only those', async () => {
    const [K, N, G, R, S, off] = [64, 64, 3, 70, 130, 40];
    const layout = paramLayout(K, N, true);
    const host: Host = { params: values(G * layout.P, 91), x: values(G * S * K, 92).map(Math.tanh), dY: values(G * S * N, 93) };
    const buffers = {
      params: upload(host.params, 'params'),
      x: upload(host.x, 'x'),
      dY: upload(host.dY, 'dY'),
      y: createStorageBuffer(gpu(), 'y', G * S * N * 4),
      dX: createStorageBuffer(gpu(), 'dX', G * S * K * 4),
      grads: createStorageBuffer(gpu(), 'grads', G * layout.P * 4),
    };
    const sentinels = { y: new Float32Array(G * S * N).fill(SENTINEL), dX: new Float32Array(G * S * K).fill(SENTINEL), grads: new Float32Array(G * layout.P).fill(SENTINEL) };
    const op = opFor(K, N, G);
    const result = await runCase(op, { ...buffers, paramStride: layout.P, weightOffset: layout.weightOffset, biasOffset: layout.biasOffset, rows: R, rowStride: S, rowOffset: off, activation: 'tanh', inputActivation: 'tanh' }, sentinels);
    // The rows the call owns, packed R per agent, are what the reference sees.
    const rowsOf = (a: Float32Array, width: number) => Float32Array.from({ length: G * R * width }, (_, i) => a[(Math.floor(i / (R * width)) * S + off) * width + (i % (R * width))]);
    const packed: Host = { params: host.params, x: rowsOf(host.x, K), dY: rowsOf(host.dY, N) };
    for (let g = 0; g < G; g++) {
      const { out, mag } = reference(packed, g, K, N, R, R, layout, 'tanh', 'tanh');
      expect(worst(result.y.subarray((g * S + off) * N), out.y, mag.y, 1e-6)).toBeLessThanOrEqual(1e-6);
      expect(worst(result.dX.subarray((g * S + off) * K), out.dX, mag.dX, 1e-6)).toBeLessThanOrEqual(1e-6);
      expect(worst(result.grads.subarray(g * layout.P + layout.weightOffset), out.dW, mag.dW, 1e-5)).toBeLessThanOrEqual(1e-5);
      expect(worst(result.grads.subarray(g * layout.P + layout.biasOffset), out.db, mag.db, 1e-5)).toBeLessThanOrEqual(1e-5);
      for (const [name, data, width] of [['y', result.y, N], ['dX', result.dX, K]] as const) {
        expect(data.subarray(g * S * width, (g * S + off) * width).every((v) => v === SENTINEL), `${name} rows < off untouched`).toBe(true);
        expect(data.subarray((g * S + off + R) * width, (g + 1) * S * width).every((v) => v === SENTINEL), `${name} rows ≥ off + R untouched`).toBe(true);
      }
    }
    expect(() => op.bind({ ...buffers, paramStride: layout.P, weightOffset: layout.weightOffset, biasOffset: layout.biasOffset, rows: R, rowStride: S, rowOffset: S - R + 1 })).toThrow(/rowStride 130 < rowOffset 61 \+ rows 70/);
    for (const b of Object.values(buffers)) b.destroy();
  });

  it('more than 65,535 workgroups: 16-row tiles over 1,048,593 rows fold into a 2-D grid', async () => {
    const [K, N, G, R] = [5, 3, 1, 65536 * 16 + 17];
    const layout = paramLayout(K, N, false);
    const op = opFor(K, N, G, R, { tileRows: 16 });
    const host: Host = { params: values(layout.P, 71), x: values(R * K, 72).map((v) => Math.max(0, v)), dY: values(R * N, 73) };
    const buffers = {
      params: upload(host.params, 'params'),
      x: upload(host.x, 'x'),
      dY: upload(host.dY, 'dY'),
      y: createStorageBuffer(gpu(), 'y', R * N * 4),
      dX: createStorageBuffer(gpu(), 'dX', R * K * 4),
      grads: createStorageBuffer(gpu(), 'grads', layout.P * 4),
    };
    const args = { ...buffers, paramStride: layout.P, weightOffset: layout.weightOffset, biasOffset: layout.biasOffset, activation: 'tanh', inputActivation: 'relu' } as const;
    const probe = op.bind(args);
    expect(probe.workgroups.forward).toBeGreaterThan(65535);
    expect(probe.workgroups.backwardInput).toBeGreaterThan(65535);
    probe.destroy();
    const sentinels = { y: new Float32Array(R * N), dX: new Float32Array(R * K), grads: new Float32Array(layout.P).fill(SENTINEL) };
    const result = await runCase(op, args, sentinels);
    const { out, mag } = reference(host, 0, K, N, R, R, layout, 'tanh', 'relu');
    expect(worst(result.y, out.y, mag.y, 1e-6)).toBeLessThanOrEqual(1e-6);
    expect(worst(result.dX, out.dX, mag.dX, 1e-6)).toBeLessThanOrEqual(1e-6);
    // 1M rows: a lane sums ≤ 4096 of them, then ~256 partials in order.
    expect(worst(result.grads.subarray(layout.weightOffset), out.dW, mag.dW, 1e-5)).toBeLessThanOrEqual(1e-5);
    expect(worst(result.grads.subarray(layout.biasOffset), out.db, mag.db, 1e-5)).toBeLessThanOrEqual(1e-5);
    for (const b of Object.values(buffers)) b.destroy();
  });

  it('rejects what does not fit: rows beyond dims.rows, a slice past P, a short buffer', () => {
    const op = opFor(5, 3, 1, 64);
    const params = createStorageBuffer(gpu(), 'params', 64);
    const x = createStorageBuffer(gpu(), 'x', 64 * 5 * 4);
    expect(() => op.bind({ params, x, paramStride: 16, weightOffset: 0, biasOffset: 15, rows: 64 })).toThrow(RangeError);
    expect(() => op.bind({ params, x, paramStride: 16, weightOffset: 0, biasOffset: 12, rows: 65 })).toThrow(RangeError);
    expect(() => op.bind({ params, x, paramStride: 32, weightOffset: 0, biasOffset: 15, rows: 64 })).toThrow(RangeError);
    params.destroy();
    x.destroy();
  });
});
