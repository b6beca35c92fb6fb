/**
 * The README's PyTorch recipe for a checkpoint, followed by hand: read the safetensors bytes as
 * `safetensors.torch.load_file` would (header JSON, little-endian f32 at data_offsets), build what
 * `nn.Sequential(nn.Linear(obs, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, act))` computes
 * after `load_state_dict` of the `actor.` tensors (nn.Linear: y = x·Wᵀ + b with W [out, in]), and compare its
 * outputs with the CPU reference's forward pass of the same parameters. Names, shapes and orientation all
 * have to be right for the outputs to agree. Also the Gaussian policy's `log_std`, and the critic.
 */
import { describe, expect, it } from 'vitest';
import { encodeCheckpoint } from '../src/checkpoint.ts';
import { defaultConfig, netShapeOf, type TrainConfig } from '../src/config.ts';
import { actorCriticForward } from '../src/cpu/actor-critic.ts';
import { initParams } from '../src/cpu/init.ts';
import { paramLayout } from '../src/model/layout.ts';

/** safetensors.torch.load_file: name → (shape, f32 data). */
function loadFile(bytes: Uint8Array): Map<string, { shape: number[]; data: Float32Array }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const data = bytes.subarray(8 + headerLength);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, entry] of Object.entries(header) as [string, { dtype: string; shape: number[]; data_offsets: [number, number] }][]) {
    if (name === '__metadata__' || entry.dtype !== 'F32') continue;
    const [from, to] = entry.data_offsets;
    const raw = data.slice(from, to);
    const f32 = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    out.set(name, { shape: entry.shape, data: f32 });
  }
  return out;
}

/** `model.load_state_dict({k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)})` then `model(x)`. */
function sequentialForward(sd: Map<string, { shape: number[]; data: Float32Array }>, prefix: string, layers: { in: number; out: number }[], x: Float64Array, act: (v: number) => number): Float64Array {
  let h = x;
  layers.forEach((layer, l) => {
    const w = sd.get(`${prefix}${2 * l}.weight`);
    const b = sd.get(`${prefix}${2 * l}.bias`);
    expect(w?.shape, `${prefix}${2 * l}.weight`).toEqual([layer.out, layer.in]);
    expect(b?.shape, `${prefix}${2 * l}.bias`).toEqual([layer.out]);
    const y = new Float64Array(layer.out);
    for (let o = 0; o < layer.out; o++) {
      let s = b!.data[o];
      for (let i = 0; i < layer.in; i++) s += w!.data[o * layer.in + i] * h[i];
      y[o] = l < layers.length - 1 ? act(s) : s;
    }
    h = y;
  });
  expect(sd.has(`${prefix}${2 * layers.length}.weight`), 'no layer beyond the head').toBe(false);
  return h;
}

function checkpointOf(partial: Partial<TrainConfig>) {
  const config = { ...defaultConfig(partial.algo, partial.env), ...partial } as TrainConfig;
  const shape = netShapeOf(config);
  const layout = paramLayout(shape);
  const params = initParams(new Float32Array(layout.total), shape, 'pytorch', 11, -0.7);
  // Biases away from 0, so that a bias read from the wrong place shows.
  for (const slot of layout.tensors) if (slot.shape.length === 1 && slot.role !== 'logStd') for (let e = 0; e < slot.size; e++) params[slot.offset + e] = 0.05 * Math.sin(slot.index + e);
  const bytes = encodeCheckpoint({ config, update: 3, envSteps: 96, params, optM: new Float32Array(layout.total), optV: new Float32Array(layout.total), envSlots: null, normStats: null, recentReturns: [[]] });
  return { config, shape, layout, params, bytes };
}

describe("a checkpoint in the README's PyTorch recipe", () => {
  it('a two-layer tanh actor and critic (Pendulum-v1, 64,64) load into nn.Sequential and compute what the CPU reference computes', () => {
    const { shape, params, bytes } = checkpointOf({ env: 'Pendulum-v1', netArch: '64,64', activation: 'tanh' });
    const sd = loadFile(bytes);
    expect(sd.get('log_std')?.shape).toEqual([1]);
    expect(Array.from(sd.get('log_std')!.data)).toEqual([Math.fround(-0.7)]);
    const B = 5;
    const x = Float64Array.from({ length: B * 3 }, (_, i) => Math.cos(i * 1.3));
    const cpu = actorCriticForward(params, shape, x, B);
    for (let r = 0; r < B; r++) {
      const xr = x.subarray(r * 3, r * 3 + 3);
      const mean = sequentialForward(sd, 'actor.', [{ in: 3, out: 64 }, { in: 64, out: 64 }, { in: 64, out: 1 }], xr, Math.tanh);
      const value = sequentialForward(sd, 'critic.', [{ in: 3, out: 64 }, { in: 64, out: 64 }, { in: 64, out: 1 }], xr, Math.tanh);
      expect(mean[0]).toBeCloseTo(cpu.logits[r], 6);
      expect(value[0]).toBeCloseTo(cpu.values[r], 6);
    }
  });

  it('three relu layers of unequal widths (Acrobot-v1, pi=32,16,8/vf=24): every layer at its nn.Sequential index', () => {
    const { shape, params, bytes } = checkpointOf({ env: 'Acrobot-v1', netArch: 'pi=32,16,8/vf=24', activation: 'relu' });
    const sd = loadFile(bytes);
    expect([...sd.keys()].filter((k) => k.startsWith('actor.') || k.startsWith('critic.')).sort()).toEqual(
      ['actor.0.bias', 'actor.0.weight', 'actor.2.bias', 'actor.2.weight', 'actor.4.bias', 'actor.4.weight', 'actor.6.bias', 'actor.6.weight', 'critic.0.bias', 'critic.0.weight', 'critic.2.bias', 'critic.2.weight'],
    );
    const x = Float64Array.from({ length: 6 }, (_, i) => 0.4 - 0.3 * i);
    const cpu = actorCriticForward(params, shape, x, 1);
    const relu = (v: number) => Math.max(v, 0);
    const logits = sequentialForward(sd, 'actor.', [{ in: 6, out: 32 }, { in: 32, out: 16 }, { in: 16, out: 8 }, { in: 8, out: 3 }], x, relu);
    const value = sequentialForward(sd, 'critic.', [{ in: 6, out: 24 }, { in: 24, out: 1 }], x, relu);
    for (let a = 0; a < 3; a++) expect(logits[a]).toBeCloseTo(cpu.logits[a], 6);
    expect(value[0]).toBeCloseTo(cpu.values[0], 6);
  });
});
