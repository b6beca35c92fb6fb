/** The sweep spec, its expansion, groups, batches, shards and hash (src/sweep.ts): pure, no GPU. */
import { describe, expect, it } from 'vitest';
import { agentConfig, CONFIG_SCHEMA, ConfigError, defaultConfig } from '../../src/config.ts';
import { presetBatches } from '../../bench/presets.ts';
import {
  expandSweep, maxAgentsPerSession, parseSweepSpec, stableJson, sweepBase, sweepBatches, sweepGroups, sweepHash, sweptFields,
  type SweepSpec,
} from '../../src/sweep.ts';
import { resolveShard, shardOf } from '../../src/sweep-shard.ts';
import { rankConfigurations, resultsCsv, rowFromFlat, flatRow, summaryMarkdown, type SweepRow } from '../../src/sweep-report.ts';

const W = 'sweep.json';
const expand = (json: unknown, flags = {}) => {
  const spec = parseSweepSpec(json, W);
  return expandSweep(spec, sweepBase(spec, flags, W));
};
const ISSUE_SPEC = {
  base: { env: 'CartPole-v1', totalSteps: 200000 },
  grid: { learningRate: [0.001, 0.003, 0.01], entCoef: [0, 0.01] },
  random: { samples: 4, seed: 1, space: { gamma: { uniform: [0.95, 0.999] }, vfCoef: { logUniform: [0.1, 1] } } },
  seeds: 4,
  shards: 2,
};

describe('sweep spec expansion', () => {
  it('grid product × random samples × seeds, configuration-major, the last grid key fastest', () => {
    const agents = expand(ISSUE_SPEC);
    expect(agents).toHaveLength(3 * 2 * 4 * 4);
    expect(agents.slice(0, 5).map((a) => a.id)).toEqual(['c000-s1', 'c000-s2', 'c000-s3', 'c000-s4', 'c001-s1']);
    expect(agents.at(-1)!.id).toBe('c023-s4');
    expect(agents.map((a) => a.index)).toEqual(agents.map((_, i) => i));
    // Configurations 0-3: the first grid point with the four samples; 4-7: entCoef's second value.
    expect(agents[0].values).toMatchObject({ learningRate: 0.001, entCoef: 0 });
    expect(agents[4 * 4].values).toMatchObject({ learningRate: 0.001, entCoef: 0.01 });
    expect(agents[8 * 4].values).toMatchObject({ learningRate: 0.003, entCoef: 0 });
    expect(Object.keys(agents[0].values)).toEqual(['learningRate', 'entCoef', 'gamma', 'vfCoef']);
    // Every agent's config: base, its values, its seed; trained alone to its budget.
    for (const a of agents) {
      expect(a.config).toMatchObject({ ...a.values, env: 'CartPole-v1', totalSteps: 200000, seed: a.seed, numAgents: 1, stopOnTarget: false });
    }
  });

  it('random draws: deterministic, inside their bounds, rounded to 6 digits, shared by the grid points, keyed by field', () => {
    const agents = expand(ISSUE_SPEC);
    const again = expand(JSON.parse(JSON.stringify(ISSUE_SPEC)));
    expect(again.map((a) => a.values)).toEqual(agents.map((a) => a.values));
    const samples = [0, 1, 2, 3].map((j) => agents[j * 4].values);
    expect(new Set(samples.map((s) => s.gamma)).size).toBe(4);
    for (const s of samples) {
      expect(s.gamma).toBeGreaterThanOrEqual(0.95);
      expect(s.gamma).toBeLessThanOrEqual(0.999);
      expect(s.vfCoef).toBeGreaterThanOrEqual(0.1);
      expect(s.vfCoef).toBeLessThanOrEqual(1);
      expect(Number((s.gamma as number).toPrecision(6))).toBe(s.gamma);
    }
    // The second grid point draws the same samples.
    expect([0, 1, 2, 3].map((j) => agents[(4 + j) * 4].values.gamma)).toEqual(samples.map((s) => s.gamma));
    // Dropping vfCoef from the space leaves gamma's draws alone; another seed draws others.
    const gammaOnly = expand({ ...ISSUE_SPEC, random: { samples: 4, seed: 1, space: { gamma: { uniform: [0.95, 0.999] } } } });
    expect([0, 1, 2, 3].map((j) => gammaOnly[j * 4].values.gamma)).toEqual(samples.map((s) => s.gamma));
    const otherSeed = expand({ ...ISSUE_SPEC, random: { ...ISSUE_SPEC.random, seed: 2 } });
    expect(otherSeed[0].values.gamma).not.toBe(samples[0].gamma);
  });

  it('log-uniform draws spread over decades', () => {
    const agents = expand({ random: { samples: 200, space: { learningRate: { logUniform: [1e-5, 1e-1] } } } });
    const logs = agents.map((a) => Math.log10(a.values.learningRate as number));
    expect(Math.min(...logs)).toBeLessThan(-4.5);
    expect(Math.max(...logs)).toBeGreaterThan(-1.5);
    expect(logs.filter((l) => l < -3).length).toBeGreaterThan(70);
    expect(logs.filter((l) => l < -3).length).toBeLessThan(130);
  });

  it('seeds: a count is 1..S, a list is kept in its order; no grid or random is one configuration', () => {
    expect(expand({ seeds: 3 }).map((a) => a.id)).toEqual(['c000-s1', 'c000-s2', 'c000-s3']);
    expect(expand({ seeds: [7, 3] }).map((a) => [a.id, a.config.seed])).toEqual([['c000-s7', 7], ['c000-s3', 3]]);
    expect(expand({}).map((a) => a.id)).toEqual(['c000-s1']);
  });

  it('flags override the spec base; env presets apply per configuration', () => {
    const [a] = expand({ base: { totalSteps: 1000, hidden: 32 } }, { hidden: 16 });
    expect(a.config.hidden).toBe(16);
    expect(a.config.totalSteps).toBe(1000);
    const byEnv = expand({ grid: { env: ['CartPole-v1', 'MountainCar-v0'] } });
    expect(byEnv[0].config.normalizeObservations).toBe(false);
    expect(byEnv[1].config).toMatchObject({ normalizeObservations: true, totalSteps: 2_000_000 });
  });
});

describe('groups, batches, shards, hash', () => {
  it('agents differing in a shape-changing field train in separate groups', () => {
    const agents = expand({ grid: { hidden: [32, 64], learningRate: [0.001, 0.01] }, seeds: 2 });
    const groups = sweepGroups(agents);
    expect(groups.map((g) => g.map((a) => a.id))).toEqual([
      ['c000-s1', 'c000-s2', 'c001-s1', 'c001-s2'],
      ['c002-s1', 'c002-s2', 'c003-s1', 'c003-s2'],
    ]);
    expect(sweepGroups(expand({ grid: { env: ['CartPole-v1', 'Acrobot-v1'], gamma: [0.9, 0.99] } }))).toHaveLength(2);
  });

  it('a group larger than the packed weights hold splits into near-equal batches; agent a of a batch is its own config', () => {
    const agents = expand({ base: { totalSteps: 1000 }, grid: { learningRate: [0.001, 0.003, 0.01, 0.03] }, seeds: 4 });
    expect(maxAgentsPerSession(agents[0].config)).toBe(15);
    const batches = sweepBatches(agents);
    expect(batches.map((b) => b.agents.length)).toEqual([8, 8]);
    expect(batches.flatMap((b) => b.agents.map((a) => a.id))).toEqual(agents.map((a) => a.id));
    for (const batch of batches) {
      expect(batch.config.numAgents).toBe(batch.agents.length);
      batch.agents.forEach((a, i) => expect(agentConfig(batch.config, i)).toEqual(a.config));
    }
    // An adapter cap splits further.
    expect(sweepBatches(agents, () => 5).map((b) => b.agents.length)).toEqual([4, 4, 4, 4]);
    expect(sweepBatches(agents.slice(0, 7), () => 3).map((b) => b.agents.length)).toEqual([3, 2, 2]);
  });

  it('PPO and layered-path networks take every agent in one session; bench presets batches seeds the same way', () => {
    const max = CONFIG_SCHEMA.numAgents.kind === 'int' ? CONFIG_SCHEMA.numAgents.max : undefined;
    expect(maxAgentsPerSession(defaultConfig('a2c', 'CartPole-v1'))).toBe(15);
    // PPO never takes the fused path, so the packed weights do not bound it.
    expect(maxAgentsPerSession(defaultConfig('ppo', 'CartPole-v1'))).toBe(max);
    expect(maxAgentsPerSession(defaultConfig('a2c', 'Pendulum-v1'))).toBe(max);
    expect(presetBatches(defaultConfig('a2c', 'CartPole-v1'), 16)).toEqual([8, 8]);
    expect(presetBatches(defaultConfig('a2c', 'CartPole-v1'), 31)).toEqual([11, 10, 10]);
    expect(presetBatches(defaultConfig('a2c', 'CartPole-v1'), 5)).toEqual([5]);
    expect(presetBatches(defaultConfig('ppo', 'CartPole-v1'), 16)).toEqual([16]);
    expect(presetBatches(defaultConfig('a2c', 'Pendulum-v1'), 16)).toEqual([16]);
  });

  it('shard K of N holds agents K, K + N, …: disjoint, covering, balanced', () => {
    const agents = expand(ISSUE_SPEC);
    for (const n of [1, 2, 3, 7]) {
      const slices = Array.from({ length: n }, (_, k) => shardOf(agents, { index: k, count: n }));
      expect(slices.flat().map((a) => a.index).sort((x, y) => x - y)).toEqual(agents.map((a) => a.index));
      const sizes = slices.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(shardOf(agents, { index: 1, count: 3 }).slice(0, 2).map((a) => a.index)).toEqual([1, 4]);
  });

  it('the hash: stable, blind to key order and spelling of defaults, sensitive to every value and flag', () => {
    const h = sweepHash(expand(ISSUE_SPEC));
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(sweepHash(expand(JSON.parse(JSON.stringify(ISSUE_SPEC))))).toBe(h);
    const reordered = { seeds: 4, random: ISSUE_SPEC.random, grid: ISSUE_SPEC.grid, base: { totalSteps: 200000, env: 'CartPole-v1' } };
    expect(sweepHash(expand(reordered))).toBe(h);
    expect(sweepHash(expand({ ...ISSUE_SPEC, shards: 5 }))).toBe(h);
    expect(sweepHash(expand({ ...ISSUE_SPEC, base: { totalSteps: 200000 } }))).toBe(h); // CartPole-v1 is the default
    expect(sweepHash(expand({ ...ISSUE_SPEC, seeds: 3 }))).not.toBe(h);
    expect(sweepHash(expand({ ...ISSUE_SPEC, grid: { ...ISSUE_SPEC.grid, entCoef: [0, 0.02] } }))).not.toBe(h);
    expect(sweepHash(expand(ISSUE_SPEC, { nSteps: 16 }))).not.toBe(h);
    expect(stableJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });
});

describe('shards from the schedulers', () => {
  const none = (env: Record<string, string>, opts: { shard?: string; shardCount?: string } = {}, specShards: number | null = null) => resolveShard(opts, env, specShards);
  it('--shard K/N, Slurm, AWS Batch and Kubernetes Indexed Jobs', () => {
    expect(none({})).toBeNull();
    expect(none({}, { shard: '1/4' })).toMatchObject({ index: 1, count: 4 });
    expect(none({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ index: 2, count: 4 });
    expect(none({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ index: 2, count: 4 });
    expect(none({ AWS_BATCH_JOB_ARRAY_INDEX: '0', AWS_BATCH_JOB_ARRAY_SIZE: '3' })).toMatchObject({ index: 0, count: 3 });
    expect(none({ JOB_COMPLETION_INDEX: '1' }, { shardCount: '2' })).toMatchObject({ index: 1, count: 2 });
    expect(none({ JOB_COMPLETION_INDEX: '1' }, {}, 3)).toMatchObject({ index: 1, count: 3 });
    // The flag wins over the scheduler's variables.
    expect(none({ JOB_COMPLETION_INDEX: '1' }, { shard: '0/2' })).toMatchObject({ index: 0, count: 2 });
  });

  it('out-of-range, missing and conflicting shard settings are one line each', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('no error');
    };
    expect(err(() => none({}, { shard: '2/2' }))).toBe('--shard 2/2: shard index 2 is out of range 0..1 (K counts from 0)');
    expect(err(() => none({}, { shard: '1' }))).toBe('--shard must be K/N with K counted from 0 (e.g. 0/4); got "1"');
    expect(err(() => none({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '2' }))).toBe('SLURM_ARRAY_TASK_ID=5: shard index 5 is out of range 0..1 (K counts from 0)');
    expect(err(() => none({ JOB_COMPLETION_INDEX: '0' }))).toBe('JOB_COMPLETION_INDEX=0 gives the shard index but not the count: pass --shard-count N or set "shards" in the spec');
    expect(err(() => none({ AWS_BATCH_JOB_ARRAY_INDEX: '1', AWS_BATCH_JOB_ARRAY_SIZE: '4' }, { shardCount: '2' }))).toBe('--shard-count 2 disagrees with AWS_BATCH_JOB_ARRAY_SIZE=4');
    expect(err(() => none({}, { shardCount: '2' }))).toMatch(/^--shard-count 2 needs a shard index/);
  });
});

describe('bad specs: one line each', () => {
  const bad: [string, unknown, string][] = [
    ['not an object', [1], 'sweep.json: a sweep spec is a JSON object (fields: base, grid, random, seeds, shards)'],
    ['unknown top-level field', { gird: {} }, 'sweep.json: unknown field "gird" (fields: base, grid, random, seeds, shards)'],
    ['unknown field in base', { base: { hiden: 3 } }, 'sweep.json: base: unknown config field "hiden"'],
    ['unknown field in grid', { grid: { learningRat: [0.1] } }, 'sweep.json: grid.learningRat: unknown config field "learningRat"'],
    ['unknown field in random', { random: { samples: 2, space: { gama: { uniform: [0, 1] } } } }, 'sweep.json: random.space.gama: unknown config field "gama"'],
    ['unknown key in random', { random: { samples: 2, sapce: {} } }, 'sweep.json: random: unknown field "sapce" (fields: samples, seed, space)'],
    [
      'shape-changing field in random',
      { random: { samples: 2, space: { hidden: { uniform: [16, 64] } } } },
      'sweep.json: random.space.hidden: "hidden" changes buffer shapes, so it cannot be drawn per agent; list its values in "grid" (random fields: learningRate, gamma, gaeLambda, entCoef, vfCoef, maxGradNorm, clipCoef, targetKl, adamBeta1, adamBeta2, rmspropAlpha, optimizerEps, targetReturn)',
    ],
    ['a choice in random', { random: { samples: 2, space: { lrSchedule: { uniform: [0, 1] } } } }, 'sweep.json: random.space.lrSchedule: "lrSchedule" is not a real number; list its values in "grid"'],
    ['seed in grid', { grid: { seed: [1, 2] } }, 'sweep.json: grid.seed: "seed" cannot be set in a sweep: the seeds go in "seeds"'],
    ['numAgents in base', { base: { numAgents: 4 } }, 'sweep.json: base: "numAgents" cannot be set in a sweep: the sweep decides which agents train together'],
    ['empty grid list', { grid: { learningRate: [] } }, 'sweep.json: grid.learningRate must be a non-empty list of values'],
    ['duplicate grid value', { grid: { gamma: [0.9, 0.9] } }, 'sweep.json: grid.gamma lists 0.9 twice'],
    ['grid value out of range', { grid: { gamma: [0.9, 1.5] } }, 'sweep.json: grid.gamma[1]: --gamma must be <= 1; got 1.5'],
    ['grid value of the wrong type', { grid: { hidden: ['64'] } }, 'sweep.json: grid.hidden[0]: config field "hidden" must be a number; got "64"'],
    ['base and grid', { base: { gamma: 0.9 }, grid: { gamma: [0.95] } }, 'sweep.json: grid.gamma: "gamma" is set in base and swept in grid; keep one'],
    ['grid and random', { grid: { gamma: [0.95] }, random: { samples: 1, space: { gamma: { uniform: [0.9, 0.99] } } } }, 'sweep.json: random.space.gamma: "gamma" is swept in both grid and random; keep one'],
    ['empty uniform range', { random: { samples: 2, space: { gamma: { uniform: [0.99, 0.95] } } } }, 'sweep.json: random.space.gamma.uniform is an empty range: low must be < high; got [0.99, 0.95]'],
    ['equal bounds', { random: { samples: 2, space: { gamma: { uniform: [0.9, 0.9] } } } }, 'sweep.json: random.space.gamma.uniform is an empty range: low must be < high; got [0.9, 0.9]'],
    ['non-positive log bound', { random: { samples: 2, space: { entCoef: { logUniform: [0, 0.1] } } } }, 'sweep.json: random.space.entCoef.logUniform bounds must be > 0; got [0, 0.1]'],
    ['bound out of the field range', { random: { samples: 2, space: { gamma: { uniform: [0.9, 1.2] } } } }, 'sweep.json: random.space.gamma.uniform[1]: --gamma must be <= 1; got 1.2'],
    ['unknown distribution', { random: { samples: 2, space: { gamma: { normal: [0.9, 0.1] } } } }, 'sweep.json: random.space.gamma must be { "uniform": [low, high] } or { "logUniform": [low, high] }'],
    ['samples 0', { random: { samples: 0, space: { gamma: { uniform: [0.9, 0.99] } } } }, 'sweep.json: random.samples must be an integer >= 1; got 0'],
    ['empty space', { random: { samples: 1, space: {} } }, 'sweep.json: random.space must name at least one field: { "learningRate": { "logUniform": [0.0001, 0.01] } }'],
    ['seeds 0', { seeds: 0 }, 'sweep.json: "seeds" must be a count from 1 to 100000 or a list of seeds; got 0'],
    ['seeds []', { seeds: [] }, 'sweep.json: "seeds" must be a count (>= 1) or a non-empty list of seeds; got []'],
    ['seeds twice', { seeds: [1, 1] }, 'sweep.json: "seeds" lists 1 twice'],
    ['shards 0', { shards: 0 }, 'sweep.json: "shards" must be an integer >= 1; got 0'],
  ];
  for (const [what, json, message] of bad) {
    it(what, () => {
      expect(() => parseSweepSpec(json, W)).toThrow(ConfigError);
      expect(() => parseSweepSpec(json, W)).toThrow(message);
      try {
        parseSweepSpec(json, W);
      } catch (error) {
        expect((error as Error).message).toBe(message);
      }
    });
  }

  it('a combination that does not fit names its configuration', () => {
    expect(() => expand({ base: { algo: 'qac' }, grid: { env: ['CartPole-v1', 'Pendulum-v1'] } })).toThrow(
      /^configuration c001 \(env=Pendulum-v1\): --algo qac learns Q\(s, a\) for each of a Discrete env's actions/,
    );
  });

  it('a flag may not set a swept field or one the sweep owns', () => {
    const spec: SweepSpec = parseSweepSpec({ grid: { learningRate: [0.001, 0.01] } }, W);
    expect(() => sweepBase(spec, { learningRate: 0.1 }, W)).toThrow('--learning-rate: "learningRate" is swept by sweep.json; drop the flag');
    expect(() => sweepBase(spec, { seed: 3 }, W)).toThrow('--seed cannot be given to sweep: the seeds go in "seeds"');
    expect(sweptFields(spec)).toEqual(['learningRate']);
  });
});

describe('results and summary', () => {
  const row = (id: string, configuration: number, lr: number, seed: number, final: number, steps: number | null): SweepRow => ({
    id, configuration, values: { learningRate: lr }, seed, target: 195, solved: steps !== null, stepsToTarget: steps,
    finalMeanReturn100: final, evalMeanReturn: final + 1, nonFiniteUpdate: null, envSteps: 30080,
  });
  const rows = [row('c000-s1', 0, 0.001, 1, 50, null), row('c000-s2', 0, 0.001, 2, 70, 20000), row('c001-s1', 1, 0.01, 1, 150, 12000), row('c001-s2', 1, 0.01, 2, 110, 16000)];

  it('ranks configurations by the median over seeds, with spread and counts', () => {
    const ranked = rankConfigurations(rows);
    expect(ranked.map((c) => c.name)).toEqual(['c001', 'c000']);
    expect(ranked[0]).toMatchObject({ medianFinalMeanReturn100: 130, minFinalMeanReturn100: 110, maxFinalMeanReturn100: 150, solved: 2, seeds: 2, medianStepsToTarget: 14000 });
    expect(ranked[1]).toMatchObject({ solved: 1, medianStepsToTarget: 20000 });
    const md = summaryMarkdown(rows, ['learningRate'], { hash: 'abc', base: 'CartPole-v0' });
    expect(md).toContain('| 1 | c001 | 0.01 | 130.0 | 110.0–150.0 | 2/2 | 14000 | 131.0 |');
    expect(md).toContain('| 2 | c000 | 0.001 | 60.0 | 50.0–70.0 | 1/2 | 20000 | 61.0 |');
    expect(md).toContain('--learning-rate 0.01');
  });

  it('ties at the cap go to more seeds at the target, then the higher minimum, then fewer steps', () => {
    const capped = [
      row('c000-s1', 0, 0.003, 1, 500, 160000), row('c000-s2', 0, 0.003, 2, 420, null), row('c000-s3', 0, 0.003, 3, 500, 150000),
      row('c001-s1', 1, 0.01, 1, 500, 120000), row('c001-s2', 1, 0.01, 2, 500, 110000), row('c001-s3', 1, 0.01, 3, 500, 100000),
      row('c002-s1', 2, 0.02, 1, 500, 90000), row('c002-s2', 2, 0.02, 2, 480, 95000), row('c002-s3', 2, 0.02, 3, 500, 99000),
    ];
    expect(rankConfigurations(capped).map((c) => c.name)).toEqual(['c001', 'c002', 'c000']);
  });

  it('CSV rows: one per agent, empty cells for null, round trip through the flat row', () => {
    const csv = resultsCsv(rows, ['learningRate']).split('\n');
    expect(csv[0]).toBe('id,configuration,learningRate,seed,target,solved,stepsToTarget,finalMeanReturn100,evalMeanReturn,nonFiniteUpdate,envSteps');
    expect(csv[1]).toBe('c000-s1,0,0.001,1,195,false,,50,51,,30080');
    expect(rowFromFlat(JSON.parse(JSON.stringify(flatRow(rows[2]))), ['learningRate'])).toEqual(rows[2]);
  });
});
