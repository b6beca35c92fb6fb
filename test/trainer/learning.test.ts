import { describe, expect, it } from 'vitest';
import { train } from '../../src/trainer/train.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

describe('learning on lavapipe', () => {
  it('solves CartPole-v1 with the defaults within 1M env steps, the final policy holds up on 100 fresh episodes, and a second run ends bit-identical', async () => {
    const result = await train(gpu(), { seed: 7, totalSteps: 1_000_000 });
    expect(result.solved).toBe(true);
    expect(result.meanReturn100).toBeGreaterThanOrEqual(475);
    expect(result.evaluation!.meanReturn).toBeGreaterThanOrEqual(475);
    // The stop is a fixed number of updates after the solving report, whatever the GPU's timing.
    const again = await train(gpu(), { seed: 7, totalSteps: 1_000_000 });
    expect(again.envSteps).toBe(result.envSteps);
    expect(Buffer.from(again.state.params.buffer).equals(Buffer.from(result.state.params.buffer))).toBe(true);
  });

  it('ppo with its defaults learns CartPole-v1: the mean of the last 100 episodes reaches 200 within 300k steps, and 100 fresh episodes hold up', async () => {
    const result = await train(gpu(), { algo: 'ppo', seed: 4, totalSteps: 300_000, targetReturn: 200, evalEpisodes: 100 });
    expect(result.solved).toBe(true);
    expect(result.solvedAtStep[0]).toBeLessThanOrEqual(300_000);
    expect(result.evaluation!.meanReturn).toBeGreaterThan(150);
  });

  // A uniform random policy lasts ~22 steps on CartPole.
  for (const algo of ['a2c', 'reinforce', 'qac', 'tdac'] as const) {
    it(`${algo} learns CartPole-v0: mean return of the last 100 episodes at least twice a random policy's within 300k steps`, async () => {
      const result = await train(gpu(), { env: 'CartPole-v0', algo, seed: 3, totalSteps: 300_000, evalEpisodes: 100 });
      expect(result.meanReturn100).toBeGreaterThan(44);
      expect(result.evaluation!.meanReturn).toBeGreaterThan(44);
    });
  }
});
