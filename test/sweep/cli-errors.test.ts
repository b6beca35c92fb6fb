/**
 * `webgpu-rl sweep` and `sweep merge` refuse bad input with one line and exit 2 before any GPU work: these
 * processes run with no Vulkan driver at all (VK_ICD_FILENAMES points nowhere), so reaching openGpu would
 * end in the no-adapter message with exit 1 instead (the first test shows that it does).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSweepSpec, sweepBase, expandSweep, sweepHash, SWEEP_FORMAT } from '../../src/sweep.ts';

const SCHEDULER_VARS = ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_COUNT', 'SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_STEP', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX', 'AWS_BATCH_JOB_ARRAY_SIZE'];

function noGpuCli(args: string[], env: Record<string, string> = {}) {
  const base = { ...process.env };
  for (const v of SCHEDULER_VARS) delete base[v];
  const start = performance.now();
  const r = spawnSync('node', ['bin/webgpu-rl.mjs', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...base, VK_ICD_FILENAMES: '/nonexistent.json', VK_DRIVER_FILES: '/nonexistent.json', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - start) / 1000 };
}

describe('sweep: bad input is one line, exit 2, before any GPU work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-rl-sweep-errors-'));
  const spec = (name: string, json: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof json === 'string' ? json : JSON.stringify(json));
    return path;
  };
  const good = spec('good.json', { base: { env: 'CartPole-v0', totalSteps: 1000 }, grid: { learningRate: [0.001, 0.01] }, seeds: 2 });

  it('control: a good spec gets as far as the GPU, which is not there (exit 1, no-adapter message)', () => {
    const r = noGpuCli(['sweep', '--spec', good, '--out', join(dir, 'control')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('webgpu-rl: no WebGPU adapter found');
  });

  const cases: [string, string[], Record<string, string>, string][] = [
    ['unknown field', ['--spec', spec('a.json', { grid: { learningRate: [0.01] }, sedes: 3 })], {}, 'webgpu-rl: a.json: unknown field "sedes" (fields: base, grid, random, seeds, shards)'],
    ['unknown grid field', ['--spec', spec('b.json', { grid: { learnRate: [0.01] } })], {}, 'webgpu-rl: b.json: grid.learnRate: unknown config field "learnRate"'],
    [
      'a shape-changing field in random',
      ['--spec', spec('c.json', { random: { samples: 2, space: { numEnvs: { uniform: [8, 64] } } } })],
      {},
      'webgpu-rl: c.json: random.space.numEnvs: "numEnvs" changes buffer shapes, so it cannot be drawn per agent; list its values in "grid" (random fields: learningRate, gamma, gaeLambda, entCoef, vfCoef, maxGradNorm, clipCoef, targetKl, adamBeta1, adamBeta2, rmspropAlpha, optimizerEps, targetReturn)',
    ],
    ['an empty range', ['--spec', spec('d.json', { random: { samples: 2, space: { gamma: { uniform: [0.99, 0.9] } } } })], {}, 'webgpu-rl: d.json: random.space.gamma.uniform is an empty range: low must be < high; got [0.99, 0.9]'],
    ['an empty grid list', ['--spec', spec('e.json', { grid: { entCoef: [] } })], {}, 'webgpu-rl: e.json: grid.entCoef must be a non-empty list of values'],
    ['a non-positive log bound', ['--spec', spec('f.json', { random: { samples: 2, space: { learningRate: { logUniform: [-1, 0.01] } } } })], {}, 'webgpu-rl: f.json: random.space.learningRate.logUniform bounds must be > 0; got [-1, 0.01]'],
    ['a shard index out of range (flag)', ['--spec', good, '--shard', '2/2'], {}, 'webgpu-rl: --shard 2/2: shard index 2 is out of range 0..1 (K counts from 0)'],
    ['a shard index out of range (Slurm)', ['--spec', good], { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' }, 'webgpu-rl: SLURM_ARRAY_TASK_ID=4: shard index 4 is out of range 0..3 (K counts from 0)'],
    ['Kubernetes without a count', ['--spec', good], { JOB_COMPLETION_INDEX: '0' }, 'webgpu-rl: JOB_COMPLETION_INDEX=0 gives the shard index but not the count: pass --shard-count N or set "shards" in the spec'],
    ['more shards than agents', ['--spec', good, '--shard', '0/5'], {}, 'webgpu-rl: --shard 0/5: 5 shards for 4 agents; use at most 4'],
    ['a flag on a swept field', ['--spec', good, '--learning-rate', '0.1'], {}, `webgpu-rl: --learning-rate: "learningRate" is swept by ${good}; drop the flag`],
    ['a bad flag value', ['--spec', good, '--gamma', '2'], {}, 'webgpu-rl: --gamma must be <= 1; got 2'],
    ['no spec', [], {}, 'webgpu-rl: sweep needs --spec FILE (see webgpu-rl sweep --help)'],
    ['a spec that is not JSON', ['--spec', spec('g.json', '{')], {}, 'webgpu-rl: --spec: g.json is not valid JSON (…'],
  ];
  for (const [what, args, env, line] of cases) {
    it(what, () => {
      const r = noGpuCli(['sweep', ...args], env);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(r.code, r.stderr).toBe(2);
      // Spec paths print as given; compared without the scratch folder. A line ending in … is a prefix.
      const actual = lines[0].replaceAll(`${dir}/`, '');
      if (line.endsWith('…')) expect(actual.startsWith(line.slice(0, -1)), actual).toBe(true);
      else expect(actual).toBe(line.replaceAll(`${dir}/`, ''));
      expect(r.stdout).toBe('');
    });
  }

  it('--resume on a folder of another spec, or of another shard', () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'sweep.json'), JSON.stringify({ format: SWEEP_FORMAT, hash: '0123456789abcdef', shard: null }));
    let r = noGpuCli(['sweep', '--spec', good, '--out', other, '--resume']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^webgpu-rl: --resume: \S+other holds a sweep of another spec \(hash 0123456789abcdef; this spec and flags give [0-9a-f]{16}\)$/);
    r = noGpuCli(['sweep', '--spec', good, '--out', other]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/already holds a sweep \(sweep.json\); continue it with --resume, or choose another folder$/);
    const json = { base: { env: 'CartPole-v0', totalSteps: 1000 }, grid: { learningRate: [0.001, 0.01] }, seeds: 2 };
    const parsed = parseSweepSpec(json, 'x');
    const hash = sweepHash(expandSweep(parsed, sweepBase(parsed, {}, 'x')));
    writeFileSync(join(other, 'sweep.json'), JSON.stringify({ format: SWEEP_FORMAT, hash, shard: { index: 0, count: 2 } }));
    r = noGpuCli(['sweep', '--spec', good, '--out', other, '--resume', '--shard', '1/2']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^webgpu-rl: --resume: \S+other holds shard 0\/2; this run is shard 1\/2$/);
  });

  it('merge: another sweep, a shard twice or missing, an unfinished shard', () => {
    const shard = (name: string, meta: object) => {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'sweep.json'), JSON.stringify({ format: SWEEP_FORMAT, hash: 'aaaaaaaaaaaaaaaa', allAgents: ['c000-s1', 'c000-s2'], ...meta }));
      return d;
    };
    const s0 = shard('m0', { shard: { index: 0, count: 2 }, agents: ['c000-s1'] });
    const s1 = shard('m1', { shard: { index: 1, count: 2 }, agents: ['c000-s2'] });
    const foreign = shard('m2', { hash: 'bbbbbbbbbbbbbbbb', shard: { index: 1, count: 2 }, agents: ['c000-s2'] });
    const cases: [string[], RegExp][] = [
      [[s0, foreign], /^webgpu-rl: \S+m2 is a shard of another sweep \(hash bbbbbbbbbbbbbbbb; \S+m0 has aaaaaaaaaaaaaaaa\)$/],
      [[s0, s1], /^webgpu-rl: \S+m0 \(shard 0\/2\) is unfinished: 0 of 1 agents have results; continue it with --resume$/],
      [[join(dir, 'nowhere')], /^webgpu-rl: \S+nowhere is not a sweep folder \(no sweep.json\)$/],
      [[], /^webgpu-rl: sweep merge needs the shard folders/],
    ];
    for (const [dirs, message] of cases) {
      const r = noGpuCli(['sweep', 'merge', ...dirs]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
    }
    // Finished shards (result rows present): twice, and missing.
    for (const [d, id] of [[s0, 'c000-s1'], [s1, 'c000-s2']]) {
      mkdirSync(join(d, 'agents', id), { recursive: true });
      writeFileSync(join(d, 'agents', id, 'result.json'), '{}');
    }
    let r = noGpuCli(['sweep', 'merge', s0, s0]);
    expect(r.stderr.trim()).toMatch(/^webgpu-rl: shard 0\/2 is given twice: \S+m0 and \S+m0$/);
    r = noGpuCli(['sweep', 'merge', s1]);
    expect(r.stderr.trim()).toBe('webgpu-rl: shard 0/2 is missing (given: 1/2)');
    expect(r.code).toBe(2);
  });
});
