/**
 * TensorBoard event files without TensorFlow: the bytes of `events.out.tfevents.*` (TFRecord framing around
 * protobuf `Event`s) and the Stable-Baselines3 names of our metrics. No fs here, so the browser can use it too;
 * cli/tensorboard.ts writes the file. Specifications followed:
 *   tensorflow/core/lib/io/record_writer.cc   record = u64 LE length, u32 LE masked CRC-32C of those 8 bytes,
 *                                             data, u32 LE masked CRC-32C of the data
 *   tensorflow/core/lib/hash/crc32c.h         Mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8
 *   tensorflow/core/util/event.proto          Event { double wall_time = 1; int64 step = 2;
 *                                               oneof what { string file_version = 3; Summary summary = 5; … } }
 *   tensorflow/core/framework/summary.proto   Summary { repeated Value value = 1; }
 *                                             Summary.Value { string tag = 1; oneof value { float simple_value = 2; … } }
 *   tensorflow/core/util/events_writer.cc     file name "%s.out.tfevents.%010lld.%s%s" (prefix, seconds, host, suffix);
 *                                             first record: file_version "brain.Event:2"
 * Test: test/tensorboard.test.ts.
 */
import type { TrainMetrics } from './trainer/train.ts';

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF), as TFRecord uses. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord stores CRCs masked: a CRC of data that itself holds CRCs would otherwise be weak (crc32c.h). */
export function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord: the framing around `data` that TensorBoard's reader checks before it parses anything. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  // A record is far below 4 GiB: the high half of the u64 length stays 0.
  view.setUint32(0, data.length, true);
  view.setUint32(8, maskCrc(crc32c(out.subarray(0, 8))), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskCrc(crc32c(data)), true);
  return out;
}

/** A protobuf message under construction: only the wire types an Event of scalars needs. */
class ProtoWriter {
  private bytes: number[] = [];

  /** Base-128 varint, low group first; arithmetic, not bit operators, so steps past 2^32 stay exact. */
  varint(value: number): this {
    while (value >= 0x80) {
      this.bytes.push((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    this.bytes.push(value);
    return this;
  }

  /** A field's key: field number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
  private key(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  /** int64 field; proto3 leaves out fields that hold their default (0), as TensorFlow's serializer does. */
  int64(field: number, value: number): this {
    return value === 0 ? this : this.key(field, 0).varint(value);
  }

  double(field: number, value: number): this {
    const fixed = new DataView(new ArrayBuffer(8));
    fixed.setFloat64(0, value, true);
    return this.key(field, 1).raw(new Uint8Array(fixed.buffer));
  }

  float(field: number, value: number): this {
    const fixed = new DataView(new ArrayBuffer(4));
    fixed.setFloat32(0, value, true);
    return this.key(field, 5).raw(new Uint8Array(fixed.buffer));
  }

  /** A string (UTF-8) or an embedded message: its length, then its bytes. */
  lengthDelimited(field: number, value: string | Uint8Array): this {
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    return this.key(field, 2).varint(bytes.length).raw(bytes);
  }

  private raw(bytes: Uint8Array): this {
    for (let i = 0; i < bytes.length; i++) this.bytes.push(bytes[i]);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** Field numbers of event.proto and summary.proto (see the header). */
const EVENT = { wallTime: 1, step: 2, fileVersion: 3, summary: 5 } as const;
const SUMMARY = { value: 1 } as const;
const SUMMARY_VALUE = { tag: 1, simpleValue: 2 } as const;

export const FILE_VERSION = 'brain.Event:2';

/** The record every event file opens with; TensorBoard reads the version from it. */
export function eventFileHeader(wallTime: number): Uint8Array {
  return tfRecord(new ProtoWriter().double(EVENT.wallTime, wallTime).lengthDelimited(EVENT.fileVersion, FILE_VERSION).finish());
}

/**
 * One record holding every scalar of `step` in one Summary (as TensorFlow's merged summaries do): a step is
 * written whole or not at all, and the file is about half the size of one event per scalar. Values are stored
 * as float32 (simple_value is a `float`); NaN and ±Infinity are written as they are, since TensorBoard reads
 * them and a NaN loss is exactly what a chart should show. Steps must be integers from 0 to 2^53.
 */
export function scalarEvent(step: number, wallTime: number, scalars: Record<string, number>): Uint8Array {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`tensorboard: step must be a non-negative integer, got ${step}`);
  const summary = new ProtoWriter();
  for (const [tag, value] of Object.entries(scalars)) {
    summary.lengthDelimited(SUMMARY.value, new ProtoWriter().lengthDelimited(SUMMARY_VALUE.tag, tag).float(SUMMARY_VALUE.simpleValue, value).finish());
  }
  return tfRecord(new ProtoWriter().double(EVENT.wallTime, wallTime).int64(EVENT.step, step).lengthDelimited(EVENT.summary, summary.finish()).finish());
}

/** TensorFlow's `events.out.tfevents.{seconds, 10 digits}.{hostname}{suffix}` (events_writer.cc). */
export function eventFileName(wallTimeSeconds: number, hostname: string, suffix = ''): string {
  return `events.out.tfevents.${String(Math.floor(wallTimeSeconds)).padStart(10, '0')}.${hostname}${suffix}`;
}

/**
 * The scalars written, by tag, for the README. SB3's names come from the `logger.record` calls that reach
 * TensorBoard in stable_baselines3/common/on_policy_algorithm.py (dump_logs) and a2c/a2c.py (train); SB3 keeps
 * time/iterations, time/time_elapsed, time/total_timesteps and train/n_updates out of TensorBoard
 * (exclude="tensorboard"), the x axis being the env steps already. train/grad_norm is ours: SB3 logs none.
 */
export const TENSORBOARD_SCALARS: readonly { tag: string; meaning: string }[] = [
  { tag: 'rollout/ep_rew_mean', meaning: 'mean return of the last 100 episodes (averaged over agents); absent until an episode has ended' },
  { tag: 'rollout/ep_len_mean', meaning: 'mean length of the last 100 episodes (per agent); absent until an episode has ended' },
  { tag: 'train/policy_loss', meaning: 'policy-gradient loss −mean(advantage · log π(a|s))' },
  { tag: 'train/value_loss', meaning: 'critic loss: mean squared error against the returns (SB3: F.mse_loss)' },
  { tag: 'train/entropy_loss', meaning: 'minus the mean policy entropy (SB3 logs −entropy under this name)' },
  { tag: 'train/explained_variance', meaning: '1 − Var(returns − values) / Var(returns)' },
  { tag: 'train/grad_norm', meaning: 'global L2 norm of the gradient before clipping (ours: SB3 does not log it)' },
  { tag: 'train/approx_kl', meaning: 'PPO: approximate KL mean((ρ − 1) − log ρ) of the last minibatch (SB3, CleanRL)' },
  { tag: 'train/clip_fraction', meaning: 'PPO: mean fraction of rows whose ratio ρ left [1 − clip, 1 + clip], over the minibatches run' },
  { tag: 'time/fps', meaning: 'env steps per second, all agents together, over a recent window (SB3: since start)' },
];

/** SB3's ep_info_buffer holds this many episodes (base_class.py: stats_window_size = 100). */
const EPISODE_WINDOW = 100;

/**
 * Turns each report's TrainMetrics into the scalars above. It keeps state because a report gives the mean
 * length of only the episodes ended since the previous one: the last reports are weighted by their episode
 * counts to cover SB3's window of 100 episodes per agent (exact when a report's episodes have one length).
 */
export class Sb3Scalars {
  private episodesSeen = 0;
  private lengths: { mean: number; count: number }[] = [];

  of(metrics: TrainMetrics): Record<string, number> {
    const window = EPISODE_WINDOW * (metrics.agents?.length ?? 1);
    if (metrics.episodesFinished > 0) {
      this.episodesSeen += metrics.episodesFinished;
      this.lengths.push({ mean: metrics.episodicLength, count: metrics.episodesFinished });
    }
    let total = this.lengths.reduce((sum, l) => sum + l.count, 0);
    while (this.lengths.length > 1 && total - this.lengths[0].count >= window) total -= this.lengths.shift()!.count;
    // The oldest report kept may reach past the window: only its newest episodes count.
    let weighted = 0;
    this.lengths.forEach((l, i) => (weighted += l.mean * (i === 0 ? l.count - Math.max(0, total - window) : l.count)));
    // SB3 records rollout/* only once its episode buffer holds an episode; until then meanReturn100 reads 0.
    const rollout: Record<string, number> = this.episodesSeen > 0 ? { 'rollout/ep_rew_mean': metrics.meanReturn100, 'rollout/ep_len_mean': weighted / Math.min(total, window) } : {};
    return {
      ...rollout,
      'train/policy_loss': metrics.policyLoss,
      'train/value_loss': metrics.valueLoss,
      'train/entropy_loss': -metrics.entropy,
      'train/explained_variance': metrics.explainedVariance,
      'train/grad_norm': metrics.gradNorm,
      ...(metrics.approxKl !== undefined ? { 'train/approx_kl': metrics.approxKl, 'train/clip_fraction': metrics.clipFraction! } : {}),
      'time/fps': metrics.sps,
    };
  }
}
