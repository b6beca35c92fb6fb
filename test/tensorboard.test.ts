/**
 * src/tensorboard.ts and cli/tensorboard.ts against the formats' specifications: CRC-32C check values, masked
 * CRCs and protobuf bytes worked out by hand below, a reader written here from the specifications (its CRC is
 * the bitwise definition, not the module's table), and TensorBoard's own loader when python3 has it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TensorBoardError, TensorBoardWriter } from '../cli/tensorboard.ts';
import { crc32c, eventFileHeader, eventFileName, maskCrc, scalarEvent, Sb3Scalars, TENSORBOARD_SCALARS } from '../src/tensorboard.ts';
import type { TrainMetrics } from '../src/trainer/train.ts';

const ascii = (text: string) => Array.from(new TextEncoder().encode(text));
const bytesOf = (hex: string) => hex.split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16));

/** CRC-32C bit by bit, straight from its definition (reflected polynomial 0x82F63B78). */
function crc32cBitwise(bytes: ArrayLike<number>): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i];
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const masked = (bytes: ArrayLike<number>) => maskCrc(crc32cBitwise(bytes));

describe('CRC-32C', () => {
  it('gives the standard check values', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283); // the catalogue's "check"
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43); // RFC 3720 B.4: 32 bytes of ones
    expect(crc32cBitwise(ascii('123456789'))).toBe(0xe3069283); // the test's own reference agrees
  });

  it('masks as TFRecord does', () => {
    // 0xE3069283 >>> 15 = (0xE306 << 1) | bit 15 of 0x9283 (1) = 0x1C60D
    // 0xE3069283 << 17  = (0x9283 & 0x7FFF) << 17 = 0x1283 << 17 = 0x25060000
    // OR = 0x2507C60D; + 0xA282EAD8: low halves 0xC60D + 0xEAD8 = 0x1B0E5 (carry 1), high 0x2507 + 0xA282 + 1 = 0xC78A
    expect(maskCrc(0xe3069283)).toBe(0xc78ab0e5);
    // 0x8A9136AA >>> 15 = (0x8A91 << 1) | 0 = 0x11522;  << 17 = 0x36AA << 17 = 0x6D540000;  OR = 0x6D551522
    // + 0xA282EAD8: low 0x1522 + 0xEAD8 = 0xFFFA, high 0x6D55 + 0xA282 = 0x10FD7: the sum wraps mod 2^32
    expect(maskCrc(0x8a9136aa)).toBe(0x0fd7fffa);
    expect(maskCrc(0)).toBe(0xa282ead8);
  });
});

// 1700000000.5 as a double: 1700000000 = 0x6553F100, the leading 1 at bit 30, so the exponent is 1023 + 30 = 0x41D;
// the 52-bit fraction is the 30 bits below it (0x2553F100) then .5 (one 1 bit) then 21 zeros:
// 0x2553F100 << 22 | 1 << 21 = 0x954FC40200000; bits = 0x41D << 52 | that = 0x41D954FC40200000, stored little-endian.
const WALL_TIME = 1700000000.5;
const WALL_TIME_LE = '00 00 20 40 FC 54 D9 41';

describe('event records', () => {
  it('frames the file_version event exactly', () => {
    // Event: 09 = field 1 (wall_time), wire type 1 (fixed64) → (1 << 3) | 1;  the 8 bytes above;
    // 1A = field 3 (file_version), wire type 2 → (3 << 3) | 2 = 26;  0D = 13 = length of "brain.Event:2".
    // step 0 is left out, as proto3 leaves out defaults. 1 + 8 + 1 + 1 + 13 = 24 bytes.
    const event = [...bytesOf(`09 ${WALL_TIME_LE} 1A 0D`), ...ascii('brain.Event:2')];
    expect(event.length).toBe(24);
    // Framing: u64 LE length 24 = 18 00 00 00 00 00 00 00, masked CRC of those 8 bytes, the event, masked CRC of it.
    // CRC-32C(length bytes) = 0x4A65BFE4 → masked 0x224B7FA3; CRC-32C(event) = 0x2529B6D7 → masked 0x1031352B
    // (CRCs of the bitwise reference; masks as worked above).
    const length = bytesOf('18 00 00 00 00 00 00 00');
    expect(crc32cBitwise(length)).toBe(0x4a65bfe4);
    expect(crc32cBitwise(event)).toBe(0x2529b6d7);
    const expected = [...length, ...bytesOf('A3 7F 4B 22'), ...event, ...bytesOf('2B 35 31 10')];
    expect([...eventFileHeader(WALL_TIME)]).toEqual(expected);
  });

  it('encodes a scalar event exactly', () => {
    // Summary.Value: 0A = field 1 (tag), wire type 2; 13 = 19 = 7 + 1 + 11 bytes of "rollout/ep_rew_mean";
    //   15 = field 2 (simple_value), wire type 5 (fixed32) → (2 << 3) | 5 = 21;
    //   22.5 = 1.40625 · 2^4: exponent 127 + 4 = 0x83, fraction .01101 → 0 10000011 0110100… = 0x41B40000 → 00 00 B4 41.
    //   2 + 19 + 5 = 26 bytes.
    const value = [...bytesOf('0A 13'), ...ascii('rollout/ep_rew_mean'), ...bytesOf('15 00 00 B4 41')];
    expect(value.length).toBe(26);
    // Summary: 0A = field 1 (value), wire type 2; 1A = 26. 28 bytes.
    const summary = [...bytesOf('0A 1A'), ...value];
    // Event: 09 + wall_time; 10 = field 2 (step), varint: 1000 = 0x3E8 → low 7 bits 0x68 | 0x80 = E8, then 1000 >> 7 = 07;
    //   2A = field 5 (summary), wire type 2 → (5 << 3) | 2 = 42; 1C = 28. 9 + 3 + 2 + 28 = 42 bytes.
    const event = [...bytesOf(`09 ${WALL_TIME_LE} 10 E8 07 2A 1C`), ...summary];
    expect(event.length).toBe(42);
    // Length 42 = 2A 00…; CRC-32C(length) = 0x516B2987 → masked 0xF5918DAE; CRC-32C(event) = 0xC6333FBA → masked 0x21F8773E.
    expect(crc32cBitwise(bytesOf('2A 00 00 00 00 00 00 00'))).toBe(0x516b2987);
    expect(crc32cBitwise(event)).toBe(0xc6333fba);
    const expected = [...bytesOf('2A 00 00 00 00 00 00 00 AE 8D 91 F5'), ...event, ...bytesOf('3E 77 F8 21')];
    expect([...scalarEvent(1000, WALL_TIME, { 'rollout/ep_rew_mean': 22.5 })]).toEqual(expected);
  });

  it('writes steps past 2^31 and 2^32 as full varints, and step 0 not at all', () => {
    // The event's bytes after its wall_time (9 bytes) and before the CRC; an empty summary closes them as 2A 00.
    const stepBytes = (step: number) => [...scalarEvent(step, WALL_TIME, {})].slice(12 + 9, -4);
    // 2^31 = 2^(4·7 + 3): four groups of 0 (each 80 with its continuation bit), then 2^3 = 08.
    expect(stepBytes(2 ** 31)).toEqual(bytesOf('10 80 80 80 80 08 2A 00'));
    // 5,000,000,000 = 39,062,500·128 + 0 → 80;  39,062,500 = 305,175·128 + 100 → E4;  305,175 = 2,384·128 + 23 → 97;
    // 2,384 = 18·128 + 80 → D0;  18 → 12 (last group, no continuation bit).
    expect(stepBytes(5_000_000_000)).toEqual(bytesOf('10 80 E4 97 D0 12 2A 00'));
    // Step 0: proto3 omits the default, and a reader takes the missing field as 0.
    expect(stepBytes(0)).toEqual(bytesOf('2A 00'));
    expect(readEvents(scalarEvent(0, WALL_TIME, { x: 1 }))[0].step).toBe(0);
    expect(readEvents(scalarEvent(5_000_000_000, WALL_TIME, { x: 1 }))[0].step).toBe(5_000_000_000);
    expect(() => scalarEvent(-1, WALL_TIME, {})).toThrow(RangeError);
    expect(() => scalarEvent(1.5, WALL_TIME, {})).toThrow(RangeError);
  });

  it("names files as TensorFlow's events writer does", () => {
    expect(eventFileName(1700000000.9, 'gpu-box')).toBe('events.out.tfevents.1700000000.gpu-box');
    expect(eventFileName(12.3, 'h', '.agent3')).toBe('events.out.tfevents.0000000012.h.agent3'); // %010lld
  });
});

interface ReadEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Record<string, number>;
}

// A Buffer from readFileSync is a view into a shared pool: read it through its own offset.
const viewOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Splits a buffer into protobuf fields: [field number, varint value | fixed bytes | length-delimited bytes]. */
function fields(bytes: Uint8Array): [number, number | Uint8Array][] {
  const out: [number, number | Uint8Array][] = [];
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8), wireType = key % 8;
    if (wireType === 0) out.push([field, varint()]);
    else if (wireType === 1 || wireType === 2 || wireType === 5) {
      const size = wireType === 1 ? 8 : wireType === 5 ? 4 : varint();
      out.push([field, bytes.subarray(at, (at += size))]);
    } else throw new Error(`unexpected wire type ${wireType}`);
  }
  return out;
}

/** Reads TFRecord framing (both CRCs checked) and decodes each Event of scalars, per event.proto and summary.proto. */
function readEvents(file: Uint8Array): ReadEvent[] {
  const view = viewOf(file);
  const events: ReadEvent[] = [];
  for (let at = 0; at < file.length; ) {
    expect(view.getUint32(at + 4, true)).toBe(0); // high half of the u64 length
    const length = view.getUint32(at, true);
    expect(view.getUint32(at + 8, true)).toBe(masked(file.subarray(at, at + 8)));
    const data = file.subarray(at + 12, at + 12 + length);
    expect(view.getUint32(at + 12 + length, true)).toBe(masked(data));
    at += 12 + length + 4;
    const event: ReadEvent = { wallTime: Number.NaN, step: 0, scalars: {} };
    for (const [field, value] of fields(data)) {
      if (field === 1) event.wallTime = viewOf(value as Uint8Array).getFloat64(0, true);
      else if (field === 2) event.step = value as number;
      else if (field === 3) event.fileVersion = new TextDecoder().decode(value as Uint8Array);
      else if (field === 5) {
        for (const [, valueBytes] of fields(value as Uint8Array)) {
          let tag = '', simpleValue = Number.NaN;
          for (const [f, v] of fields(valueBytes as Uint8Array)) {
            if (f === 1) tag = new TextDecoder().decode(v as Uint8Array);
            if (f === 2) simpleValue = viewOf(v as Uint8Array).getFloat32(0, true);
          }
          event.scalars[tag] = simpleValue;
        }
      }
    }
    events.push(event);
  }
  return events;
}

const scratch = mkdtempSync(join(tmpdir(), 'tensorboard-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A run of three steps written through TensorBoardWriter into a fresh folder; returns the file. */
function writeRun(dir: string): { path: string; steps: [number, Record<string, number>][] } {
  const steps: [number, Record<string, number>][] = [
    [1000, { 'rollout/ep_rew_mean': 22.5, 'train/policy_loss': -0.125, 'train/entropy_loss': -0.6875 }],
    [2000, { 'rollout/ep_rew_mean': 41.25, 'train/policy_loss': 0.1, 'train/entropy_loss': -0.5 }],
    [5_000_000_000, { 'rollout/ep_rew_mean': 500, 'train/policy_loss': 3e-7, 'train/entropy_loss': -0.25 }],
  ];
  const writer = new TensorBoardWriter(dir, { wallTime: WALL_TIME, host: 'testhost' });
  steps.forEach(([step, scalars], i) => writer.scalars(step, scalars, WALL_TIME + i + 1));
  writer.close();
  return { path: writer.path, steps };
}

describe('TensorBoardWriter', () => {
  it('writes a file that an independent reader reads back, CRCs checked', () => {
    const dir = join(scratch, 'runs', 'CartPole-v1__a2c__1');
    const { path, steps } = writeRun(dir);
    expect(readdirSync(dir)).toEqual(['events.out.tfevents.1700000000.testhost']);
    const events = readEvents(readFileSync(path));
    expect(events[0]).toEqual({ wallTime: WALL_TIME, step: 0, fileVersion: 'brain.Event:2', scalars: {} });
    expect(events.slice(1).map((e) => [e.step, e.wallTime])).toEqual(steps.map(([step], i) => [step, WALL_TIME + i + 1]));
    // simple_value is a float32: what comes back is each value rounded to float32.
    for (const [i, [, scalars]] of steps.entries()) {
      expect(events[i + 1].scalars).toEqual(Object.fromEntries(Object.entries(scalars).map(([tag, v]) => [tag, Math.fround(v)])));
    }
  });

  it('writes the header once when it appends to the same file, and keeps NaN', () => {
    const dir = join(scratch, 'append');
    new TensorBoardWriter(dir, { wallTime: WALL_TIME, host: 'h' }).close();
    const second = new TensorBoardWriter(dir, { wallTime: WALL_TIME, host: 'h' });
    second.scalars(8, { 'train/value_loss': Number.NaN, 'time/fps': Number.POSITIVE_INFINITY });
    second.close();
    second.close();
    const events = readEvents(readFileSync(second.path));
    expect(events.map((e) => e.fileVersion ?? e.step)).toEqual(['brain.Event:2', 8]);
    expect(events[1].scalars).toEqual({ 'train/value_loss': Number.NaN, 'time/fps': Number.POSITIVE_INFINITY });
    expect(() => second.scalars(9, {})).toThrow(/is closed/);
  });

  it('reports a folder it cannot create in one line', () => {
    const blocker = join(scratch, 'a-file');
    writeFileSync(blocker, '');
    const open = () => new TensorBoardWriter(join(blocker, 'run'), { host: 'h' });
    expect(open).toThrow(TensorBoardError);
    expect(open).toThrow(/^tensorboard: cannot open .*a-file\/run\/events\.out\.tfevents\.\d{10}\.h: (ENOTDIR|EEXIST)$/);
  });

  const python = spawnSync('python3', ['-c', 'import tensorboard'], { encoding: 'utf8' });
  const hasTensorBoard = python.status === 0;
  const why = hasTensorBoard ? '' : ' — SKIPPED: python3 cannot import tensorboard here (not installed; PyPI unreachable)';
  it.skipIf(!hasTensorBoard)(`is read by TensorBoard's own EventFileLoader${why}`, () => {
    const { path, steps } = writeRun(join(scratch, 'for-tensorboard'));
    const script = [
      'import json, sys',
      'from tensorboard.backend.event_processing.event_file_loader import EventFileLoader',
      'from tensorboard.util import tensor_util',
      'out = []',
      'for e in EventFileLoader(sys.argv[1]).Load():',
      '    for v in e.summary.value:',
      // Newer loaders migrate simple_value into a rank-0 float32 tensor.
      "        x = v.simple_value if v.WhichOneof('value') == 'simple_value' else tensor_util.make_ndarray(v.tensor).item()",
      '        out.append([e.step, v.tag, x])',
      '    if e.file_version: out.append([e.step, e.file_version, None])',
      'print(json.dumps(out))',
    ].join('\n');
    const run = spawnSync('python3', ['-c', script, path], { encoding: 'utf8' });
    expect(run.stderr.split('\n').filter((line) => /Error|Traceback/.test(line))).toEqual([]);
    const expected = [[0, 'brain.Event:2', null], ...steps.flatMap(([step, scalars]) => Object.entries(scalars).map(([tag, v]) => [step, tag, Math.fround(v)]))];
    expect(JSON.parse(run.stdout)).toEqual(expected);
  });
});

function report(overrides: Partial<TrainMetrics>): TrainMetrics {
  return {
    globalStep: 1024, updates: 8, wallSeconds: 1, sps: 1024, episodicReturn: Number.NaN, episodicLength: Number.NaN,
    episodesFinished: 0, meanReturn100: 0, policyLoss: 0.5, valueLoss: 2, entropy: 0.69, explainedVariance: 0.25, gradNorm: 1.5,
    ...overrides,
  };
}

describe('Sb3Scalars', () => {
  it("uses SB3's names, signs and window", () => {
    const sb3 = new Sb3Scalars();
    // SB3 records rollout/* only once an episode has ended; entropy_loss = −entropy (a2c.py: -th.mean(entropy)).
    expect(sb3.of(report({}))).toEqual({
      'train/policy_loss': 0.5, 'train/value_loss': 2, 'train/entropy_loss': -0.69, 'train/explained_variance': 0.25, 'train/grad_norm': 1.5, 'time/fps': 1024,
    });
    expect(sb3.of(report({ episodesFinished: 60, episodicLength: 10, meanReturn100: 10 }))['rollout/ep_len_mean']).toBe(10);
    // 60 episodes of 10 then 60 of 20: the window of 100 keeps the newest 40 of the first report.
    // (40·10 + 60·20) / 100 = (400 + 1200) / 100 = 16
    const second = sb3.of(report({ episodesFinished: 60, episodicLength: 20, meanReturn100: 15 }));
    expect(second['rollout/ep_len_mean']).toBeCloseTo(16, 12);
    expect(second['rollout/ep_rew_mean']).toBe(15);
    // A report without a new episode keeps the window (SB3's buffer does not empty between dumps).
    expect(sb3.of(report({ meanReturn100: 15 }))['rollout/ep_len_mean']).toBeCloseTo(16, 12);
    // 150 more of 30: they fill the window alone.
    expect(sb3.of(report({ episodesFinished: 150, episodicLength: 30 }))['rollout/ep_len_mean']).toBe(30);
  });

  it('keeps 100 episodes per agent when agents train together', () => {
    const sb3 = new Sb3Scalars();
    const agents = [{}, {}] as TrainMetrics['agents'];
    sb3.of(report({ episodesFinished: 150, episodicLength: 10, agents }));
    // Window 2·100 = 200 episodes; 150 + 100 = 250 ended, so the newest 100 of the first report stay:
    // (100·10 + 100·40) / 200 = 25
    expect(sb3.of(report({ episodesFinished: 100, episodicLength: 40, agents }))['rollout/ep_len_mean']).toBe(25);
  });

  it('lists every tag it writes for the README (PPO adds approx_kl and clip_fraction)', () => {
    const written = Object.keys(new Sb3Scalars().of(report({ episodesFinished: 1, episodicLength: 9, approxKl: 0.01, clipFraction: 0.1 })));
    expect(TENSORBOARD_SCALARS.map((s) => s.tag).sort()).toEqual(written.sort());
    const a2c = Object.keys(new Sb3Scalars().of(report({ episodesFinished: 1, episodicLength: 9 })));
    expect(a2c).not.toContain('train/approx_kl');
    expect(written.filter((tag) => !a2c.includes(tag)).sort()).toEqual(['train/approx_kl', 'train/clip_fraction']);
  });
});
