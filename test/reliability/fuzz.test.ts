import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT, CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/checkpoint.ts';
import { defaultConfig } from '../../src/config.ts';
import { initParams } from '../../src/cpu/init.ts';
import { paramLayout } from '../../src/model/layout.ts';
import { rngU32 } from '../../src/rng.ts';
import { netShapeOf } from '../../src/trainer/gpu-trainer.ts';
import { parseTrainArgs } from '../../cli/train.ts';
import { UsageError } from '../../cli/util.ts';

/** A deterministic stream for the fuzzers, so a failure reproduces. */
function stream(seed: number) {
  let i = 0;
  return { u32: () => rngU32(seed, 77, i++, 0), below: (n: number) => rngU32(seed, 77, i++, 0) % n };
}

function validCheckpoint(): { ckpt: Checkpoint; bytes: Uint8Array } {
  const config = { ...defaultConfig(), numEnvs: 3, hidden: 8 };
  const shape = netShapeOf(config);
  const total = paramLayout(shape).total;
  const params = initParams(new Float32Array(total), shape, 'orthogonal', 5);
  const ckpt: Checkpoint = {
    config,
    update: 12,
    envSteps: 12 * 24,
    params,
    optM: params.map((v) => v * 0.1),
    optV: params.map((v) => v * v),
    envSlots: Uint32Array.from({ length: 24 }, (_, i) => i * 977),
    normStats: null,
    recentReturns: [[10, 20, 30]],
  };
  return { ckpt, bytes: encodeCheckpoint(ckpt) };
}

function headerOf(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))));
}

/** The same file with its JSON header edited (the data section untouched). */
function withHeader(bytes: Uint8Array, edit: (header: string) => string): Uint8Array {
  const header = headerOf(bytes);
  const edited = new TextEncoder().encode(edit(header));
  const data = bytes.subarray(8 + new TextEncoder().encode(header).length);
  const out = new Uint8Array(8 + edited.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(edited.length), true);
  out.set(edited, 8);
  out.set(data, 8 + edited.length);
  return out;
}

describe('checkpoint loader under fuzzing', () => {
  it('round-trips a valid checkpoint exactly', () => {
    const { ckpt, bytes } = validCheckpoint();
    const back = decodeCheckpoint(bytes);
    expect(back.config).toEqual(ckpt.config);
    expect(Array.from(back.params)).toEqual(Array.from(ckpt.params));
    expect(Array.from(back.optM)).toEqual(Array.from(ckpt.optM));
    expect(Array.from(back.envSlots!)).toEqual(Array.from(ckpt.envSlots!));
    expect(back.recentReturns).toEqual([[10, 20, 30]]);
  });

  it('answers random bytes, truncations and mutations of a valid file with a CheckpointError, never another exception', () => {
    const { bytes } = validCheckpoint();
    const rng = stream(1);
    const cases: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) cases.push(Uint8Array.from({ length: rng.below(2000) }, () => rng.below(256)));
    for (let i = 0; i < 300; i++) cases.push(bytes.slice(0, rng.below(bytes.length)));
    for (let i = 0; i < 1500; i++) {
      const m = bytes.slice();
      const flips = 1 + rng.below(4);
      for (let f = 0; f < flips; f++) m[rng.below(m.length)] ^= 1 << rng.below(8);
      cases.push(m);
    }
    let rejected = 0;
    for (const c of cases) {
      try {
        decodeCheckpoint(c);
      } catch (error) {
        if (!(error instanceof CheckpointError)) throw new Error(`unexpected ${(error as Error).constructor.name}: ${(error as Error).message}`);
        expect((error as Error).message.split('\n')).toHaveLength(1);
        rejected++;
      }
    }
    // Every mutation of the data section is caught by the CRC; a few header flips may stay valid JSON
    // that says the same thing (e.g. inside whitespace padding): those must decode to a usable checkpoint.
    expect(rejected).toBeGreaterThan(cases.length * 0.95);
  });

  it('names what is wrong: truncation, checksum, wrong version, wrong shape', () => {
    const { ckpt, bytes } = validCheckpoint();
    expect(() => decodeCheckpoint(bytes.slice(0, bytes.length - 10))).toThrow(/checksum mismatch/);
    expect(() => decodeCheckpoint(bytes.slice(0, 100))).toThrow(/exceeds the file.*truncated/);
    const flipped = bytes.slice();
    flipped[flipped.length - 5] ^= 0xff;
    expect(() => decodeCheckpoint(flipped)).toThrow(/checksum mismatch/);
    expect(() => decodeCheckpoint(withHeader(bytes, (h) => h.replace(CHECKPOINT_FORMAT, 'webgpu-rl/9')))).toThrow(/format "webgpu-rl\/9", expected one of webgpu-rl\/1, webgpu-rl\/2/);
    // Files written before layers were named by nn.Sequential index (format 1) hold the same names and order.
    expect(decodeCheckpoint(withHeader(bytes, (h) => h.replace(CHECKPOINT_FORMAT, 'webgpu-rl/1'))).params).toEqual(ckpt.params);
    // The same tensors under a config with another hidden size: a shape error, not garbage weights.
    const other = encodeCheckpoint({ ...ckpt, config: { ...ckpt.config, hidden: 9 }, params: new Float32Array(paramLayout(netShapeOf({ ...ckpt.config, hidden: 9 })).total), optM: new Float32Array(paramLayout(netShapeOf({ ...ckpt.config, hidden: 9 })).total), optV: new Float32Array(paramLayout(netShapeOf({ ...ckpt.config, hidden: 9 })).total) });
    const configOf = (b: Uint8Array) => headerOf(b).match(/"config":"(?:[^"\\]|\\.)*"/)![0];
    const forged = withHeader(bytes, (h) => h.replace(configOf(bytes), configOf(other)));
    expect(() => decodeCheckpoint(forged)).toThrow(/has shape \[8,4\], expected \[9,4\]/);
  });
});

describe('train argument parser under fuzzing', () => {
  it('returns a config or throws one-line UsageErrors for random argument vectors', () => {
    const rng = stream(2);
    const words = ['--num-envs', '--gamma', '--algo', '--env', '--seed', '--n-steps', '--learning-rate', '--normalize-advantage', '--json', '--out', '--resume',
      '--save-every', '--config', '--bogus', '-x', '--', '=', '1', '0', '-1', '1e309', 'NaN', 'a2c', 'CartPole-v0', 'true', '', ' ', '0x10', '1_000', '3.5', '--gamma=0.5', '--num-envs=', '\u0000'];
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const argv = Array.from({ length: rng.below(6) }, () => words[rng.below(words.length)]);
      try {
        const args = parseTrainArgs(argv);
        expect(args.config.numEnvs).toBeGreaterThanOrEqual(1);
        expect(Number.isFinite(args.config.gamma)).toBe(true);
        parsed++;
      } catch (error) {
        if (!(error instanceof UsageError)) throw new Error(`argv ${JSON.stringify(argv)}: unexpected ${(error as Error).constructor.name}: ${(error as Error).message}`);
        expect((error as Error).message).not.toContain('\n');
      }
    }
    expect(parsed).toBeGreaterThan(100);
  });
});
