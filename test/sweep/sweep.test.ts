/**
 * `webgpu-rl sweep` end to end on the GPU, small (CartPole-v0, 16 envs, 30k steps, 2 learning rates × 2
 * seeds): a one-machine sweep; the same sweep as two shards in separate processes (one told by Slurm's
 * variables, one by Kubernetes') merged into the same bytes; an agent equal to its lone `train` run; a
 * shard killed after a periodic save resumed to the uninterrupted results; a foreign spec refused on --resume.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/checkpoint.ts';

const SCHEDULER_VARS = ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_COUNT', 'SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_STEP', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX', 'AWS_BATCH_JOB_ARRAY_SIZE'];

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const v of SCHEDULER_VARS) delete env[v];
  return { ...env, ...extra };
}

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('node', ['bin/webgpu-rl.mjs', ...args], { encoding: 'utf8', timeout: 120_000, env: cleanEnv(env) });
  const stderr = r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n');
  return { code: r.status, stdout: r.stdout, stderr };
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
const read = (dir: string, file: string) => readFileSync(join(dir, file));

describe('webgpu-rl sweep on the GPU', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'webgpu-rl-sweep-'));
  const spec = join(scratch, 'sweep.json');
  // A target of 60 is reached mid-budget by every agent here, so steps to target are real numbers.
  writeFileSync(spec, JSON.stringify({ base: { env: 'CartPole-v0', numEnvs: 16, totalSteps: 30000, evalEpisodes: 4, targetReturn: 60 }, grid: { learningRate: [0.003, 0.01] }, seeds: 2 }));
  const one = join(scratch, 'one');
  const shard = (k: number) => join(scratch, `shard-${k}`);

  it('one machine: a complete sweep folder and one JSON line', () => {
    const r = cli(['sweep', '--spec', spec, '--out', one, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = lastJson(r.stdout);
    expect(summary).toMatchObject({ agents: 4, configurations: 2, groups: 1, batches: 1, shard: null, outDir: one });
    expect(Object.keys(summary).sort()).toEqual(['agents', 'batches', 'best', 'configurations', 'groups', 'outDir', 'shard', 'solved', 'wallSeconds']);
    for (const f of ['sweep.json', 'results.csv', 'results.jsonl', 'summary.md', 'returns.svg', 'returns.png', 'sensitivity-learningRate.svg', 'sensitivity-learningRate.png']) {
      expect(existsSync(join(one, f)), f).toBe(true);
    }
    const csv = read(one, 'results.csv').toString().trim().split('\n');
    expect(csv[0]).toBe('id,configuration,learningRate,seed,target,solved,stepsToTarget,finalMeanReturn100,evalMeanReturn,nonFiniteUpdate,envSteps');
    expect(csv.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual(['c000-s1,0,0.003,1', 'c000-s2,0,0.003,2', 'c001-s1,1,0.01,1', 'c001-s2,1,0.01,2']);
    const rows = read(one, 'results.jsonl').toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.every((row) => row.solved && row.stepsToTarget > 0 && row.stepsToTarget <= 30080)).toBe(true);
    expect(summary.solved).toBe(4);
    for (const id of ['c000-s1', 'c001-s2']) {
      const files = readdirSync(join(one, 'agents', id));
      for (const f of ['metrics.csv', 'metrics.jsonl', 'episodes.csv', 'checkpoint.safetensors', 'config.json', 'summary.json', 'result.json']) expect(files, `${id}/${f}`).toContain(f);
      expect(files.filter((f) => f.startsWith('events.out.tfevents.'))).toHaveLength(1);
    }
    expect(read(one, 'summary.md').toString()).toMatch(/\| 1 \| c00\d \| 0\.0\d+ \| \d+\.\d \| \d+\.\d–\d+\.\d \| 2\/2 \| \d+ \| \d+\.\d \|/);
  });

  it('two shards as separate processes (Slurm, Kubernetes variables) merge to the one-machine bytes', () => {
    const slurm = cli(['sweep', '--spec', spec, '--out', shard(0), '--json'], { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2' });
    expect(slurm.code, slurm.stderr).toBe(0);
    expect(lastJson(slurm.stdout)).toMatchObject({ agents: 2, shard: '0/2' });
    const k8s = cli(['sweep', '--spec', spec, '--shard-count', '2', '--out', shard(1), '--json', '--no-plots'], { JOB_COMPLETION_INDEX: '1' });
    expect(k8s.code, k8s.stderr).toBe(0);
    expect(lastJson(k8s.stdout)).toMatchObject({ agents: 2, shard: '1/2' });
    expect(JSON.parse(read(shard(1), 'sweep.json').toString()).agents).toEqual(['c000-s2', 'c001-s2']);

    const merged = join(scratch, 'merged');
    const m = cli(['sweep', 'merge', shard(0), shard(1), '--out', merged, '--json']);
    expect(m.code, m.stderr).toBe(0);
    expect(lastJson(m.stdout)).toMatchObject({ agents: 4, shards: 2, outDir: merged });
    // No column holds a wall time, so the whole files compare.
    for (const f of ['results.csv', 'results.jsonl', 'summary.md', 'sweep.json', 'returns.svg', 'sensitivity-learningRate.svg']) {
      expect(read(merged, f).equals(read(one, f)), f).toBe(true);
    }
    for (const id of ['c000-s1', 'c000-s2', 'c001-s1', 'c001-s2']) {
      expect(read(merged, `agents/${id}/checkpoint.safetensors`).equals(read(one, `agents/${id}/checkpoint.safetensors`)), id).toBe(true);
    }
  });

  it("an agent's checkpoint is bit for bit the lone `train --seed s --learning-rate x` run's", () => {
    const alone = join(scratch, 'alone');
    const r = cli([
      'train', '--env', 'CartPole-v0', '--num-envs', '16', '--total-steps', '30000', '--eval-episodes', '4', '--target-return', '60',
      '--stop-on-target', 'false', '--seed', '2', '--learning-rate', '0.01', '--out', alone, '--json', '--no-plots',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const agent = join(one, 'agents', 'c001-s2');
    const a = decodeCheckpoint(read(agent, 'checkpoint.safetensors'));
    const b = decodeCheckpoint(read(alone, 'checkpoint.safetensors'));
    const bytes = (x: Float32Array | Uint32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    expect(bytes(a.params).equals(bytes(b.params)), 'params').toBe(true);
    expect(bytes(a.optM).equals(bytes(b.optM)), 'Adam m').toBe(true);
    expect(bytes(a.optV).equals(bytes(b.optV)), 'Adam v').toBe(true);
    expect(bytes(a.envSlots!).equals(bytes(b.envSlots!)), 'env slots').toBe(true);
    expect(a.recentReturns).toEqual(b.recentReturns);
    expect(JSON.parse(read(agent, 'config.json').toString())).toEqual(JSON.parse(read(alone, 'config.json').toString()));
    const row = JSON.parse(read(agent, 'result.json').toString());
    const summary = lastJson(r.stdout);
    expect(row.stepsToTarget).toBe(summary.solvedAtStep);
    expect(row.finalMeanReturn100).toBeCloseTo(summary.meanReturn100, 1);
    expect(row.evalMeanReturn).toBeCloseTo(summary.evalMeanReturn, 1);
  });

  it('a shard killed after a periodic save continues with --resume to the uninterrupted results', async () => {
    const killed = join(scratch, 'killed');
    const args = ['bin/webgpu-rl.mjs', 'sweep', '--spec', spec, '--shard', '0/2', '--out', killed, '--save-every', '20', '--no-plots'];
    const child = spawn('node', args, { env: cleanEnv(), stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Past update 120, where agent c001-s1 reached its target: --resume must find that in the logs.
    const progress = join(killed, 'groups', '000', 'progress.json');
    let savedAt = 0;
    const deadline = performance.now() + 60_000;
    while (savedAt < 140 && performance.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 5));
      try {
        savedAt = JSON.parse(readFileSync(progress, 'utf8')).update;
      } catch {
        /* not written yet, or being replaced */
      }
    }
    child.kill('SIGKILL');
    await exited;
    expect(savedAt, 'a periodic save before the kill').toBeGreaterThanOrEqual(140);
    expect(existsSync(join(killed, 'results.csv')), 'killed before the end').toBe(false);
    expect(existsSync(join(killed, 'agents', 'c001-s1', 'result.json'))).toBe(false);

    const r = cli(['sweep', '--spec', spec, '--shard', '0/2', '--out', killed, '--save-every', '20', '--no-plots', '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resumed at update \d+/);
    expect(read(killed, 'results.csv').equals(read(shard(0), 'results.csv'))).toBe(true);
    expect(read(killed, 'summary.md').equals(read(shard(0), 'summary.md'))).toBe(true);
    for (const id of ['c000-s1', 'c001-s1']) {
      expect(read(killed, `agents/${id}/checkpoint.safetensors`).equals(read(shard(0), `agents/${id}/checkpoint.safetensors`)), id).toBe(true);
      expect(read(killed, `agents/${id}/episodes.csv`).equals(read(shard(0), `agents/${id}/episodes.csv`)), id).toBe(true);
    }
    expect(existsSync(join(killed, 'groups', '000')), 'the session checkpoint is removed once its agents finished').toBe(false);
    // Every agent finished: a second --resume trains nothing and writes the same results.
    const again = cli(['sweep', '--spec', spec, '--shard', '0/2', '--out', killed, '--no-plots', '--resume', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(read(killed, 'results.csv').equals(read(shard(0), 'results.csv'))).toBe(true);
  });

  it('--resume with another spec is one line, exit 2', () => {
    const other = join(scratch, 'other.json');
    writeFileSync(other, JSON.stringify({ base: { env: 'CartPole-v0', numEnvs: 16, totalSteps: 30000, evalEpisodes: 4, targetReturn: 60 }, grid: { learningRate: [0.003, 0.02] }, seeds: 2 }));
    const r = cli(['sweep', '--spec', other, '--out', one, '--resume']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^webgpu-rl: --resume: \S+ holds a sweep of another spec \(hash [0-9a-f]{16}; this spec and flags give [0-9a-f]{16}\)$/);
  });
});
