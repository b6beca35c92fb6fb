/**
 * Named edge cases of the policy head and losses, on the GPU: logits of ±1000, equal logits, zero
 * advantages, all-negative ReLU inputs. Parameters are crafted so the expected values follow from the
 * formulas by hand (no CPU run needed); test/trainer/update.test.ts covers the general case.
 */
import { describe, expect, it } from 'vitest';
import { readBuffer } from '../../src/gpu/kernel.ts';
import { paramLayout, tensorView } from '../../src/model/layout.ts';
import { GpuTrainer, netShapeOf } from '../../src/trainer/gpu-trainer.ts';
import { readF32, readMetrics, submitUpdate, trainConfig } from '../trainer/harness.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();
const N = 65;
const T = 8;

async function runOneUpdate(overrides: Parameters<typeof trainConfig>[0], craft: (p: (name: Parameters<typeof tensorView>[1]['name']) => Float32Array) => void) {
  const config = trainConfig({ numEnvs: N, nSteps: T, hidden: 8, activation: 'relu', evalEpisodes: 0, ...overrides });
  const trainer = new GpuTrainer(gpu(), config);
  trainer.initialize();
  const layout = paramLayout(netShapeOf(config));
  const params = new Float32Array(layout.total);
  craft((name) => tensorView(params, layout[name]));
  trainer.loadState({ params, optM: new Float32Array(layout.total), optV: new Float32Array(layout.total) });
  submitUpdate(trainer, 0);
  const [metrics, grads, logits, stepInfo] = await Promise.all([
    readMetrics(trainer),
    readF32(trainer, trainer.buffers.grads, layout.total),
    readF32(trainer, trainer.buffers.logits, N * T * 2),
    readBuffer(trainer.ctx, trainer.buffers.stepInfo, N * T * 4).then((raw) => new Uint32Array(raw)),
  ]);
  trainer.destroy();
  const g = (name: Parameters<typeof tensorView>[1]['name']) => tensorView(grads, layout[name]);
  return { metrics, g, logits, actions: Array.from(stepInfo, (v) => v & 0xff) };
}

describe('policy head and losses at the edges, on the GPU', () => {
  it('logits of +1000 / -1000: finite log-probabilities, zero entropy, always the likely action, finite gradients', async () => {
    const r = await runOneUpdate({}, (p) => p('actorB2').set([1000, -1000]));
    expect(r.logits.every((v, i) => v === (i % 2 === 0 ? 1000 : -1000))).toBe(true);
    expect(r.actions.every((a) => a === 0)).toBe(true);
    expect(r.metrics.entropy).toBe(0);
    expect(Number.isFinite(r.metrics.policyLoss)).toBe(true);
    expect(r.metrics.nonFinite).toBe(0);
    expect(Array.from(r.g('actorB2')).every(Number.isFinite)).toBe(true);
  });

  it('equal logits: entropy log 2, both actions sampled', async () => {
    const r = await runOneUpdate({}, () => {});
    expect(r.metrics.entropy).toBeCloseTo(Math.LN2, 6);
    const ones = r.actions.filter((a) => a === 1).length;
    expect(ones).toBeGreaterThan(N * T * 0.35);
    expect(ones).toBeLessThan(N * T * 0.65);
  });

  it('zero advantages (V = r exactly, gamma 0, no normalization, no entropy bonus): no policy gradient at all', async () => {
    const r = await runOneUpdate({ gamma: 0, normalizeAdvantage: false, entCoef: 0, algo: 'tdac' }, (p) => {
      p('criticB2').set([1]);
      p('actorB2').set([0.3, -0.2]);
    });
    expect(r.metrics.policyLoss).toBe(0);
    expect(r.metrics.valueLoss).toBe(0);
    for (const name of ['actorW1', 'actorB1', 'actorW2', 'actorB2', 'criticW2', 'criticB2'] as const) {
      expect(Array.from(r.g(name)).every((v) => v === 0), name).toBe(true);
    }
  });

  it('all-negative ReLU inputs: no gradient reaches the hidden layers, the output biases still learn', async () => {
    const r = await runOneUpdate({ entCoef: 0.01 }, (p) => {
      p('actorB1').fill(-100);
      p('criticB1').fill(-100);
      p('actorB2').set([0.5, -0.5]);
    });
    for (const name of ['actorW1', 'actorB1', 'actorW2', 'criticW1', 'criticB1', 'criticW2'] as const) {
      expect(Array.from(r.g(name)).every((v) => v === 0), name).toBe(true);
    }
    expect(Array.from(r.g('actorB2')).some((v) => v !== 0)).toBe(true);
    expect(Array.from(r.g('criticB2')).some((v) => v !== 0)).toBe(true);
  });
});
