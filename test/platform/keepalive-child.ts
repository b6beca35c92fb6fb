/**
 * Child process of keepalive.test.ts; run as `node --expose-gc --import tsx test/platform/keepalive-child.ts`.
 * Dawn crashes or hangs if the object returned by `create()` is garbage-collected while its device lives
 * (../shared/PLATFORM.md). Here only the GpuContext holds it: force full GCs between 4 MiB readbacks and
 * check every byte. Prints "keepalive ok" and exits 0 on success; any crash, hang or mismatch fails the test.
 */
import { createNodeGpuContext } from '../../src/platform/node.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (typeof gc !== 'function') {
  console.error('keepalive-child: run with node --expose-gc');
  process.exit(2);
}

const ITERATIONS = 30;
const BYTES = 4 << 20;

const ctx = await createNodeGpuContext();

for (let i = 0; i < ITERATIONS; i++) {
  // Garbage for the collector to chase, then full collections.
  let junk: object[] | null = [];
  for (let j = 0; j < 20_000; j++) junk.push({ j, s: `junk${j}` });
  junk = null;
  for (let g = 0; g < 3; g++) gc();

  const device = ctx.device;
  const expected = new Uint32Array(BYTES / 4);
  for (let k = 0; k < expected.length; k++) expected[k] = (Math.imul(k, 2654435761) + i) >>> 0;

  const storage = device.createBuffer({
    label: `keepalive storage ${i}`,
    size: BYTES,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const readback = device.createBuffer({ label: `keepalive readback ${i}`, size: BYTES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(storage, 0, expected);
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(storage, 0, readback, 0, BYTES);
  device.queue.submit([encoder.finish()]);

  gc();
  await readback.mapAsync(GPUMapMode.READ);
  const actual = new Uint32Array(readback.getMappedRange());
  for (let k = 0; k < expected.length; k++) {
    if (actual[k] !== expected[k]) {
      console.error(`keepalive-child: iteration ${i}: word ${k} is ${actual[k]}, expected ${expected[k]}`);
      process.exit(3);
    }
  }
  readback.unmap();
  storage.destroy();
  readback.destroy();
}

ctx.throwIfErrors();
ctx.destroy();
console.log('keepalive ok');
process.exit(0);
