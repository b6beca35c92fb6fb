import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/checkpoint.ts';

const ROWS = 16 * 8; // env steps per update with the default config
const BASE = ['--env', 'CartPole-v1', '--seed', '11', '--eval-episodes', '0', '--no-plots', '--metrics-every', '4'];

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('node', ['bin/webgpu-rl.mjs', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n') };
}

const load = (dir: string) => decodeCheckpoint(readFileSync(join(dir, 'checkpoint.safetensors')));
const losses = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((m) => [m.updates, m.policyLoss, m.valueLoss, m.entropy]);

function expectSameState(a: ReturnType<typeof load>, b: ReturnType<typeof load>) {
  expect(a.update).toBe(b.update);
  expect(Buffer.from(a.params.buffer).equals(Buffer.from(b.params.buffer))).toBe(true);
  expect(Buffer.from(a.optM.buffer).equals(Buffer.from(b.optM.buffer))).toBe(true);
  expect(Buffer.from(a.optV.buffer).equals(Buffer.from(b.optV.buffer))).toBe(true);
  expect(Buffer.from(a.envSlots!.buffer).equals(Buffer.from(b.envSlots!.buffer))).toBe(true);
}

describe('reliability of training runs (real child processes)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'webgpu-rl-rel-'));
  const K = 40;

  it('resume: K updates, stop, K more in a fresh process = 2K in one go, bit for bit; the same seed twice is identical too', () => {
    const once = join(scratch, 'once');
    const twice = join(scratch, 'twice');
    const split = join(scratch, 'split');
    expect(cli(['train', ...BASE, '--total-steps', String(2 * K * ROWS), '--out', once]).code).toBe(0);
    expect(cli(['train', ...BASE, '--total-steps', String(2 * K * ROWS), '--out', twice]).code).toBe(0);
    expect(cli(['train', ...BASE, '--total-steps', String(K * ROWS), '--out', split]).code).toBe(0);
    expect(load(split).update).toBe(K);
    const resumed = cli(['train', '--resume', split, '--total-steps', String(2 * K * ROWS), '--no-plots']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expectSameState(load(once), load(twice));
    expectSameState(load(once), load(split));
    expect(losses(split)).toEqual(losses(once));
  });

  it('--resume refuses to change the config and names the flag', () => {
    const r = cli(['train', '--resume', join(scratch, 'once'), '--learning-rate', '0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/only --total-steps may change \(got --learning-rate\)/);
  });

  it('a forced NaN stops training, names the update and the tensor, and keeps the last good checkpoint', () => {
    const dir = join(scratch, 'nan');
    const r = cli(['train', ...BASE, '--total-steps', String(100 * ROWS), '--save-every', '10', '--out', dir], { WEBGPU_RL_FAULT: 'nan@25' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/non-finite parameter actor\.0\.weight at update 25: training stopped; .*checkpoint.safetensors holds the last good parameters/);
    const ckpt = load(dir);
    expect(ckpt.update).toBe(20);
    expect(ckpt.params.every(Number.isFinite)).toBe(true);
  });

  it('a lost device gives a clear message, keeps the last checkpoint, and --resume finishes the run', () => {
    const dir = join(scratch, 'lost');
    const r = cli(['train', ...BASE, '--total-steps', String(60 * ROWS), '--save-every', '10', '--out', dir], { WEBGPU_RL_FAULT: 'lose-device@33' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/GPU device lost before update \d+.*The last checkpoint \(update 30\) is kept; continue with: webgpu-rl train --resume/);
    expect(r.stderr.trim().split('\n').at(-1)).not.toMatch(/^\s+at /);
    const resumed = cli(['train', '--resume', dir, '--no-plots']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(load(dir).update).toBe(60);
  });

  it('SIGINT finishes the current update, saves, and exits 130', async () => {
    const dir = join(scratch, 'sigint');
    const child = spawn('node', ['bin/webgpu-rl.mjs', 'train', ...BASE, '--total-steps', '100000000', '--out', dir], { stdio: 'ignore' });
    await waitFor(() => existsSync(join(dir, 'metrics.csv')) && readFileSync(join(dir, 'metrics.csv'), 'utf8').split('\n').length > 5);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(load(dir).update).toBeGreaterThan(0);
  });

  it('SIGKILL in the middle of saving never leaves a torn checkpoint', async () => {
    const dir = join(scratch, 'kill');
    for (let round = 0; round < 4; round++) {
      const args = round === 0 ? ['train', ...BASE, '--total-steps', '100000000', '--save-every', '1', '--out', dir] : ['train', '--resume', dir, '--total-steps', '100000000', '--save-every', '1', '--no-plots'];
      const child = spawn('node', ['bin/webgpu-rl.mjs', ...args], { stdio: 'ignore' });
      const before = existsSync(join(dir, 'checkpoint.safetensors')) ? load(dir).update : 0;
      await waitFor(() => existsSync(join(dir, 'checkpoint.safetensors')) && safeUpdate(dir) > before + 5);
      // Saves happen every update: a random moment lands inside one often.
      await new Promise((r) => setTimeout(r, Math.random() * 50));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
      const ckpt = load(dir); // throws if torn
      expect(ckpt.update).toBeGreaterThan(before);
    }
  });
});

function safeUpdate(dir: string): number {
  try {
    return load(dir).update;
  } catch {
    return -1;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 60_000) {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
