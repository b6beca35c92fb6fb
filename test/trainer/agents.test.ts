import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/checkpoint.ts';
import { checkAgentsFit, ConfigError, packedFits, validateConfig } from '../../src/config.ts';
import { evaluate, TrainingSession, train } from '../../src/trainer/train.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

describe('G agents in the same dispatches', () => {
  it('agent a of a G = 3 run is bit for bit the G = 1 run seeded seed + a (parameters and Adam state)', async () => {
    const common = { totalSteps: 40 * 16 * 8, evalEpisodes: 0 };
    const together = await train(gpu(), { ...common, numAgents: 3, seed: 5 });
    const p = together.state.params.length / 3;
    expect(together.updates).toBe(40);
    for (let a = 0; a < 3; a++) {
      const alone = await train(gpu(), { ...common, seed: 5 + a });
      expect(alone.state.params.length).toBe(p);
      const slice = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset + a * p * 4, p * 4);
      expect(slice(together.state.params).equals(Buffer.from(alone.state.params.buffer)), `agent ${a} params`).toBe(true);
      expect(slice(together.state.optV).equals(Buffer.from(alone.state.optV.buffer)), `agent ${a} Adam v`).toBe(true);
    }
    // Different seeds really train different agents.
    expect(Buffer.from(together.state.params.buffer, 0, p * 4).equals(Buffer.from(together.state.params.buffer, p * 4, p * 4))).toBe(false);
  });

  it('reports each agent, checkpoints every agent (agents.<a>.* tensors) and evaluates each', async () => {
    const session = new TrainingSession(gpu(), { numAgents: 2, seed: 9, totalSteps: 20 * 128, evalEpisodes: 0, metricsEvery: 4 });
    session.initialize();
    while (session.stopReason() === null) await session.step();
    await session.drain();
    const last = session.history.at(-1)!;
    expect(last.agents).toHaveLength(2);
    expect(last.agents!.map((a) => a.seed)).toEqual([9, 10]);
    const ckpt = await session.checkpoint();
    const bytes = encodeCheckpoint(ckpt);
    const back = decodeCheckpoint(bytes);
    expect(Array.from(back.params)).toEqual(Array.from(ckpt.params));
    expect(back.recentReturns).toHaveLength(2);
    expect(new TextDecoder().decode(bytes.subarray(0, 4000))).toContain('"agents.1.actor.0.weight"');
    const evaluation = await evaluate(gpu(), session.trainer, 10, true);
    expect(evaluation.returns).toHaveLength(20);
    expect(evaluation.perAgent).toHaveLength(2);
    expect(evaluation.meanReturn).toBeCloseTo((evaluation.perAgent[0].meanReturn + evaluation.perAgent[1].meanReturn) / 2, 4);
    session.destroy();
  });

  it('per-agent settings (a sweep): agent a is bit for bit the single run with its settings and seed', async () => {
    // Every field that may differ per agent, two or three values apart, with VecNormalize on so the
    // discounted returns (gamma) and the merged statistics differ too.
    const shared = { env: 'CartPole-v1', totalSteps: 24 * 16 * 8, evalEpisodes: 8, normalizeObservations: true, normalizeRewards: true, targetReturn: 1e9 };
    const settings = [
      { seed: 21, learningRate: 1e-3 },
      { seed: 4, learningRate: 3e-3, entCoef: 0.02, vfCoef: 0.25, gamma: 0.95, gaeLambda: 0.9 },
      { seed: 21, maxGradNorm: 0, normalizeAdvantage: false, adamBeta1: 0.8, adamBeta2: 0.99, optimizerEps: 1e-5, lrSchedule: 'linear' as const },
    ];
    const together = await train(gpu(), { ...shared, numAgents: 3, agents: settings });
    const p = together.state.params.length / 3;
    for (const [a, h] of settings.entries()) {
      const alone = await train(gpu(), { ...shared, ...h });
      const slice = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset + a * p * 4, p * 4);
      expect(slice(together.state.params).equals(Buffer.from(alone.state.params.buffer)), `agent ${a} params`).toBe(true);
      expect(slice(together.state.optM).equals(Buffer.from(alone.state.optM.buffer)), `agent ${a} Adam m`).toBe(true);
      expect(slice(together.state.optV).equals(Buffer.from(alone.state.optV.buffer)), `agent ${a} Adam v`).toBe(true);
      // Evaluation seeds follow the agent's own seed.
      expect(together.evaluation!.perAgent[a].meanReturn, `agent ${a} evaluation`).toBe(alone.evaluation!.meanReturn);
    }
    // Agents 0 and 2 share a seed but not their settings: they trained apart.
    expect(Buffer.from(together.state.params.buffer, 0, p * 4).equals(Buffer.from(together.state.params.buffer, 2 * p * 4, p * 4))).toBe(false);
  });

  it('checks per-agent settings: only fields that change no shape, valid values, one entry per agent', () => {
    expect(() => validateConfig({ numAgents: 2, agents: [{ learningRate: 1e-3 }] })).toThrow(/lists 1 agents' settings; numAgents is 2/);
    expect(() => validateConfig({ numAgents: 1, agents: [{ hidden: 32 }] })).toThrow(/agents\[0\]: "hidden" cannot differ per agent/);
    expect(() => validateConfig({ numAgents: 1, agents: [{ gamma: 2 }] })).toThrow(/--gamma must be <= 1/);
    expect(() => validateConfig({ numAgents: 1, agents: [{ lrSchedule: 'cosine' }] })).toThrow(/agents\[0\].lrSchedule must be one of constant, linear/);
    expect(validateConfig({ numAgents: 2, agents: [{ seed: 3 }, { gamma: 0.9 }] }).agents).toEqual([{ seed: 3 }, { gamma: 0.9 }]);
  });

  it('sends more agents than the packed weights can hold to the layered path; forcing the fused one names the largest count', () => {
    const many = validateConfig({ numAgents: 16, hidden: 64 });
    expect(packedFits(many)).toBe(false);
    expect(packedFits(validateConfig({ numAgents: 15, hidden: 64 }))).toBe(true);
    expect(() => checkAgentsFit(many)).toThrow(ConfigError);
    expect(() => checkAgentsFit(many)).toThrow(/at most 15 agents fit/);
    expect(() => checkAgentsFit(validateConfig({ numAgents: 15, hidden: 64 }))).not.toThrow();
  });
});
