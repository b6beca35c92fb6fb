/**
 * Checkpoints as safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
 * length, a JSON header, then raw little-endian tensor data. A PyTorch user loads one with
 * `safetensors.torch.load_file(path)`; the network tensors carry nn.Linear names and orientation
 * ([out, in] weights), so `nn.Sequential(nn.Linear(4, H), nn.Tanh(), nn.Linear(H, 2))` takes
 * `actor.*` with load_state_dict after stripping the "actor." prefix.
 *
 * Tensors:  actor.0.weight [H,4]  actor.0.bias [H]  actor.2.weight [A,H]  actor.2.bias [A]
 *           critic.0.weight [H,4] critic.0.bias [H] critic.2.weight [V,H] critic.2.bias [V]   (F32)
 *           optimizer.m [G·P], optimizer.v [G·P]  Adam's exp_avg / exp_avg_sq (RMSprop: v = square_avg),
 *                                            flat in webgpu-rl's layout (src/model/layout.ts)   (F32)
 *           env.slots [G·N, S + 4]           each env's state (S × f32 bits) and counters (U32)
 *           obs_rms.mean, obs_rms.var [O]    with --normalize-observations / --normalize-rewards: the
 *           ret_rms.mean, ret_rms.var [1]    running statistics (SB3's VecNormalize names); a policy
 *                                            deployed elsewhere normalizes its input with obs_rms
 * With G = --num-agents > 1 the network tensors of agent a are named agents.<a>.actor.0.weight, ….
 * With --shared-trunk there are no critic.0.* tensors: the critic's hidden layer is actor.0.*.
 * Metadata (string values): format = "webgpu-rl/2" (files written as "webgpu-rl/1" still read), config (JSON), update, envSteps, recentReturns
 * (JSON array), crc32 (of the data section, hex), and for a user's env (registered from WGSL) envModule:
 * JSON {path, code, descriptor} of its module, so the checkpoint trains, evaluates and plays on anywhere:
 * decoding registers it. Pure: no fs, so the browser demo reads and writes the same bytes.
 */
import { agentConfig, netShapeOf, validateConfig, type TrainConfig } from './config.ts';
import { BUILTIN_ENV_IDS, envSpec, registerEnv } from './envs/registry.ts';
import { slotWords, type EnvSpec } from './envs/types.ts';
import { descriptorOf, hasDescriptorHeader, parseEnvModule } from './envs/user-module.ts';
import { paramLayout, type ParamLayout, type TensorName } from './model/layout.ts';

/**
 * 2: networks of any depth (actor.0, actor.2, actor.4, … as nn.Sequential indices) and log_std; a file of
 * format 1 (one hidden layer, the same names) still loads.
 */
export const CHECKPOINT_FORMAT = 'webgpu-rl/2';
const READABLE_FORMATS = ['webgpu-rl/1', CHECKPOINT_FORMAT];

export interface Checkpoint {
  config: TrainConfig;
  update: number;
  envSteps: number;
  params: Float32Array;
  optM: Float32Array;
  optV: Float32Array;
  /** PPO: each agent's Adam step count [G] (`optimizer.steps`); absent for the other algorithms. */
  adamSteps?: Float32Array;
  /** [G·N × (S + 4)] u32: the trainer's env slots, for an exact resume; may be absent (policy only). */
  envSlots: Uint32Array | null;
  /**
   * The running statistics as the GPU holds them ([G × (2·⌈O/4⌉ + 1) × 4] f32: observation mean, variance,
   * then (return mean, return variance, 0, 0)); null when the config normalizes nothing.
   */
  normStats: Float32Array | null;
  /** Per agent, returns of its last (up to) 100 finished episodes: the stopping rule continues from them. */
  recentReturns: number[][];
  /** Per agent, the env steps at the report that first showed its target reached (null: not yet); absent in older files. */
  solvedAtStep?: (number | null)[];
}

export class CheckpointError extends Error {}

/** A tensor's name: PyTorch's for one agent, prefixed with `agents.<a>.` when several train together. */
function tensorName(numAgents: number, agent: number, layout: ParamLayout, name: TensorName): string {
  const torch = layout[name].torchName;
  return numAgents === 1 ? torch : `agents.${agent}.${torch}`;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib's crc32). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Our [in, out] weights to PyTorch's [out, in]; biases as they are. */
function toTorch(params: Float32Array, layout: ParamLayout, name: TensorName): { data: Float32Array; shape: number[] } {
  const slot = layout[name];
  const flat = params.subarray(slot.offset, slot.offset + slot.size);
  if (slot.shape.length === 1) return { data: flat.slice(), shape: [slot.shape[0]] };
  const [inputs, outputs] = slot.shape;
  const data = new Float32Array(slot.size);
  for (let i = 0; i < inputs; i++) for (let o = 0; o < outputs; o++) data[o * inputs + i] = flat[i * outputs + o];
  return { data, shape: [outputs, inputs] };
}

function fromTorch(params: Float32Array, layout: ParamLayout, name: TensorName, data: Float32Array): void {
  const slot = layout[name];
  if (slot.shape.length === 1) {
    params.set(data, slot.offset);
    return;
  }
  const [inputs, outputs] = slot.shape;
  for (let i = 0; i < inputs; i++) for (let o = 0; o < outputs; o++) params[slot.offset + i * outputs + o] = data[o * inputs + i];
}

/** Floats of one agent's running statistics in the GPU's layout (train_params.wgsl norm_stride). */
function normStatsLength(O: number): number {
  return (2 * Math.ceil(O / 4) + 1) * 4;
}

/** One agent's running statistics under VecNormalize's names, from the GPU layout. */
function normTensors(normStats: Float32Array, O: number, agent: number): Record<string, Float32Array> {
  const base = agent * normStatsLength(O);
  const ov4 = Math.ceil(O / 4) * 4;
  return {
    'obs_rms.mean': normStats.slice(base, base + O),
    'obs_rms.var': normStats.slice(base + ov4, base + ov4 + O),
    'ret_rms.mean': normStats.slice(base + 2 * ov4, base + 2 * ov4 + 1),
    'ret_rms.var': normStats.slice(base + 2 * ov4 + 1, base + 2 * ov4 + 2),
  };
}

/** A user env's module and descriptor, enough for parseEnvModule to rebuild its spec. */
function envModuleMetadata(spec: EnvSpec) {
  if (!('code' in spec.module)) throw new Error(`env "${spec.id}" is neither built in nor a user module`);
  return { path: spec.module.path, code: spec.module.code, descriptor: descriptorOf(spec) };
}

export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const layout = paramLayout(netShapeOf(ckpt.config));
  const g = ckpt.config.numAgents;
  const tensors: { name: string; dtype: 'F32' | 'U32'; shape: number[]; bytes: Uint8Array }[] = [];
  const bytesOf = (a: Float32Array | Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (let agent = 0; agent < g; agent++) {
    const params = ckpt.params.subarray(agent * layout.total, (agent + 1) * layout.total);
    for (const slot of layout.tensors) {
      const { data, shape } = toTorch(params, layout, slot.name);
      tensors.push({ name: tensorName(g, agent, layout, slot.name), dtype: 'F32', shape, bytes: bytesOf(data) });
    }
  }
  tensors.push({ name: 'optimizer.m', dtype: 'F32', shape: [g * layout.total], bytes: bytesOf(ckpt.optM) });
  tensors.push({ name: 'optimizer.v', dtype: 'F32', shape: [g * layout.total], bytes: bytesOf(ckpt.optV) });
  if (ckpt.adamSteps) tensors.push({ name: 'optimizer.steps', dtype: 'F32', shape: [g], bytes: bytesOf(ckpt.adamSteps) });
  const spec = envSpec(ckpt.config.env);
  const words = slotWords(spec);
  if (ckpt.envSlots) tensors.push({ name: 'env.slots', dtype: 'U32', shape: [ckpt.envSlots.length / words, words], bytes: bytesOf(ckpt.envSlots) });
  if (ckpt.normStats) {
    for (let agent = 0; agent < g; agent++) {
      for (const [name, data] of Object.entries(normTensors(ckpt.normStats, spec.observationSize, agent))) {
        tensors.push({ name: g === 1 ? name : `agents.${agent}.${name}`, dtype: 'F32', shape: [data.length], bytes: bytesOf(data) });
      }
    }
  }

  const dataLength = tensors.reduce((n, t) => n + t.bytes.length, 0);
  const data = new Uint8Array(dataLength);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    data.set(t.bytes, offset);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  header.__metadata__ = {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(ckpt.config),
    update: String(ckpt.update),
    envSteps: String(ckpt.envSteps),
    recentReturns: JSON.stringify(ckpt.recentReturns),
    ...(ckpt.solvedAtStep ? { solvedAtStep: JSON.stringify(ckpt.solvedAtStep) } : {}),
    ...(BUILTIN_ENV_IDS.includes(spec.id) ? {} : { envModule: JSON.stringify(envModuleMetadata(spec)) }),
    crc32: crc32(data).toString(16).padStart(8, '0'),
  };
  // The header is padded with spaces to 8 bytes, as the safetensors writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

/** Parses and checks a checkpoint; every problem is one CheckpointError line. Never partially applies. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const fail = (why: string): never => {
    throw new CheckpointError(`not a valid webgpu-rl checkpoint: ${why}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for a safetensors header`);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  if (headerLength <= 0 || 8 + headerLength > bytes.length) fail(`header length ${headerLength} exceeds the file (${bytes.length} bytes): truncated or not safetensors`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> };
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    return fail('header is not valid UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const meta = header.__metadata__;
  if (!meta || typeof meta !== 'object') fail('no __metadata__ (not written by webgpu-rl)');
  if (!READABLE_FORMATS.includes(String(meta!.format))) fail(`format "${String(meta!.format)}", expected one of ${READABLE_FORMATS.join(', ')}`);
  const data = bytes.subarray(8 + headerLength);
  const expectedCrc = String(meta!.crc32);
  const actualCrc = crc32(data).toString(16).padStart(8, '0');
  if (expectedCrc !== actualCrc) fail(`checksum mismatch (stored ${expectedCrc}, computed ${actualCrc}): the file is corrupted or truncated`);
  if (meta!.envModule !== undefined) {
    try {
      const { path, code, descriptor } = JSON.parse(String(meta!.envModule));
      registerEnv(parseEnvModule(String(code), String(path), hasDescriptorHeader(String(code)) ? null : JSON.stringify(descriptor)));
    } catch (error) {
      fail(`its env module does not load: ${(error as Error).message}`);
    }
  }
  let config: TrainConfig;
  try {
    config = validateConfig(JSON.parse(String(meta!.config)));
  } catch (error) {
    return fail(`bad config: ${(error as Error).message}`);
  }
  const update = Number(meta!.update);
  const envSteps = Number(meta!.envSteps);
  if (!Number.isInteger(update) || update < 0 || !Number.isInteger(envSteps) || envSteps < 0) fail('bad update or envSteps in metadata');
  let recentReturns: number[][] = [];
  try {
    recentReturns = meta!.recentReturns === undefined ? [] : JSON.parse(String(meta!.recentReturns));
  } catch {
    fail('recentReturns in metadata is not JSON');
  }
  const listOfNumbers = (r: unknown) => Array.isArray(r) && r.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!Array.isArray(recentReturns) || recentReturns.length > config.numAgents || !recentReturns.every(listOfNumbers)) {
    fail('recentReturns in metadata is not one list of numbers per agent');
  }
  let solvedAtStep: (number | null)[] | undefined;
  try {
    solvedAtStep = meta!.solvedAtStep === undefined ? undefined : JSON.parse(String(meta!.solvedAtStep));
  } catch {
    fail('solvedAtStep in metadata is not JSON');
  }
  const stepOrNull = (v: unknown) => v === null || (Number.isInteger(v) && (v as number) > 0 && (v as number) <= envSteps);
  if (solvedAtStep !== undefined && (!Array.isArray(solvedAtStep) || solvedAtStep.length !== config.numAgents || !solvedAtStep.every(stepOrNull))) {
    fail('solvedAtStep in metadata is not one step (or null) per agent');
  }
  const layout = paramLayout(netShapeOf(config));

  const tensor = (name: string, dtype: 'F32' | 'U32', shape: number[] | null): Float32Array | Uint32Array => {
    const entry = header[name];
    if (!entry || typeof entry !== 'object') return fail(`tensor "${name}" is missing`);
    if (entry.dtype !== dtype) fail(`tensor "${name}" has dtype ${entry.dtype}, expected ${dtype}`);
    if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${name}" has a bad shape`);
    if (shape && (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i]))) {
      fail(`tensor "${name}" has shape [${entry.shape}], expected [${shape}] for the config it was saved with`);
    }
    const [begin, end] = entry.data_offsets ?? [];
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end > data.length || end - begin !== count * 4) {
      fail(`tensor "${name}" has data offsets outside the file or of the wrong size`);
    }
    // A copy into a fresh buffer: Node's Buffer.slice shares memory and its pool's offsets.
    const copy = new Uint8Array(end - begin);
    copy.set(data.subarray(begin, end));
    return dtype === 'F32' ? new Float32Array(copy.buffer) : new Uint32Array(copy.buffer);
  };

  const g = config.numAgents;
  const params = new Float32Array(g * layout.total);
  for (let agent = 0; agent < g; agent++) {
    const agentParams = params.subarray(agent * layout.total, (agent + 1) * layout.total);
    for (const slot of layout.tensors) {
      const shape = slot.shape.length === 1 ? [slot.shape[0]] : [slot.shape[1], slot.shape[0]];
      fromTorch(agentParams, layout, slot.name, tensor(tensorName(g, agent, layout, slot.name), 'F32', shape) as Float32Array);
    }
  }
  const optM = tensor('optimizer.m', 'F32', [g * layout.total]) as Float32Array;
  const optV = tensor('optimizer.v', 'F32', [g * layout.total]) as Float32Array;
  const adamSteps = header['optimizer.steps'] ? (tensor('optimizer.steps', 'F32', [g]) as Float32Array) : null;
  if (adamSteps && !adamSteps.every((s) => Number.isInteger(s) && s >= 0)) fail('optimizer.steps holds a step count that is not a whole number');
  const spec = envSpec(config.env);
  const words = slotWords(spec);
  const envSlots = header['env.slots'] ? (tensor('env.slots', 'U32', [g * config.numEnvs, words]) as Uint32Array) : null;
  let normStats: Float32Array | null = null;
  if (config.normalizeObservations || config.normalizeRewards) {
    const O = spec.observationSize;
    const per = normStatsLength(O);
    normStats = new Float32Array(g * per);
    for (let agent = 0; agent < g; agent++) {
      const prefix = g === 1 ? '' : `agents.${agent}.`;
      const part = (name: string, length: number) => tensor(`${prefix}${name}`, 'F32', [length]) as Float32Array;
      const base = agent * per;
      const ov4 = Math.ceil(O / 4) * 4;
      normStats.set(part('obs_rms.mean', O), base);
      normStats.set(part('obs_rms.var', O), base + ov4);
      normStats.set(ov4 > O ? new Float32Array(ov4 - O).fill(1) : [], base + ov4 + O);
      normStats[base + 2 * ov4] = part('ret_rms.mean', 1)[0];
      normStats[base + 2 * ov4 + 1] = part('ret_rms.var', 1)[0];
    }
  }
  return { config, update, envSteps, params, optM, optV, ...(adamSteps ? { adamSteps } : {}), envSlots, normStats, recentReturns, ...(solvedAtStep ? { solvedAtStep } : {}) };
}

/**
 * Agent `agent` of a checkpoint of several, as a checkpoint of its own (numAgents 1, its settings folded
 * into the config): it evaluates and resumes alone exactly as it would have gone on in the group, since
 * the agents of one run never mix (a sweep writes one per agent).
 */
export function agentCheckpoint(ckpt: Checkpoint, agent: number): Checkpoint {
  const g = ckpt.config.numAgents;
  if (!Number.isInteger(agent) || agent < 0 || agent >= g) throw new RangeError(`agent ${agent} of a checkpoint of ${g} agents`);
  const config = agentConfig(ckpt.config, agent);
  const spec = envSpec(config.env);
  const p = paramLayout(netShapeOf(config)).total;
  const part = <T extends Float32Array | Uint32Array>(data: T, per: number) => data.slice(agent * per, (agent + 1) * per) as T;
  return {
    config,
    update: ckpt.update,
    envSteps: ckpt.envSteps,
    params: part(ckpt.params, p),
    optM: part(ckpt.optM, p),
    optV: part(ckpt.optV, p),
    ...(ckpt.adamSteps ? { adamSteps: ckpt.adamSteps.slice(agent, agent + 1) } : {}),
    envSlots: ckpt.envSlots ? part(ckpt.envSlots, config.numEnvs * slotWords(spec)) : null,
    normStats: ckpt.normStats ? part(ckpt.normStats, normStatsLength(spec.observationSize)) : null,
    recentReturns: [ckpt.recentReturns[agent] ?? []],
    ...(ckpt.solvedAtStep ? { solvedAtStep: [ckpt.solvedAtStep[agent]] } : {}),
  };
}
