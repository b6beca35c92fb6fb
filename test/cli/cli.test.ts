import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/checkpoint.ts';

/** TFRecord framing (uint64 length, masked CRC, data, masked CRC) peeled off: the records' data. */
function readTfRecords(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = Number(view.getBigUint64(at, true));
    out.push(bytes.subarray(at + 12, at + 12 + length));
    at += 12 + length + 4;
  }
  return out;
}

function cli(...args: string[]) {
  const r = spawnSync('node', ['bin/webgpu-rl.mjs', ...args], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning: max')).join('\n');
  return { code: r.status, stdout: r.stdout, stderr };
}

describe('webgpu-rl CLI', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'webgpu-rl-cli-'));

  it('train --algo ppo logs its approximate KL, clip fraction and epochs, and checkpoints Adam\'s step count', () => {
    const out = join(scratch, 'ppo');
    const r = cli('train', '--algo', 'ppo', '--total-steps', '3000', '--eval-episodes', '0', '--no-plots', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0].endsWith(',gradNorm,approxKl,clipFraction,epochs')).toBe(true);
    const last = csv.at(-1)!.split(',');
    expect(Number(last.at(-1)), 'epochs of the last update').toBe(4);
    expect(Number(last.at(-3)), 'approximate KL').toBeGreaterThanOrEqual(0);
    const ckpt = decodeCheckpoint(readFileSync(join(out, 'checkpoint.safetensors')));
    // 6 updates of 4 epochs × 4 minibatches, no target KL.
    expect(Array.from(ckpt.adamSteps!)).toEqual([ckpt.update * 16]);
  });

  it('train --json writes a complete run folder and ends with one JSON summary line', () => {
    const out = join(scratch, 'run');
    const r = cli('train', '--env', 'CartPole-v0', '--seed', '2', '--total-steps', '20000', '--eval-episodes', '10', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(Object.keys(summary).sort()).toEqual(['envSteps', 'evalMeanReturn', 'meanReturn100', 'runDir', 'solved', 'solvedAtStep', 'sps', 'updates', 'wallSeconds'].sort());
    expect(summary.envSteps).toBeGreaterThanOrEqual(20000);
    expect(summary.runDir).toBe(out);
    for (const file of ['config.json', 'metrics.csv', 'metrics.jsonl', 'checkpoint.safetensors', 'return.svg', 'return.png', 'length.svg', 'length.png', 'summary.json']) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toContain('globalStep,updates,wallSeconds,sps,episodicReturn');
    expect(csv.length).toBeGreaterThan(5);
    const ckpt = decodeCheckpoint(readFileSync(join(out, 'checkpoint.safetensors')));
    expect(ckpt.config.env).toBe('CartPole-v0');
    expect(ckpt.envSteps).toBe(summary.envSteps);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual(ckpt.config);
    // The TensorBoard event file: the file_version record first, then one scalar event per report.
    const events = readdirSync(out).filter((f) => f.startsWith('events.out.tfevents.'));
    expect(events).toHaveLength(1);
    const records = readTfRecords(readFileSync(join(out, events[0])));
    expect(records.length).toBe(csv.length);   // the header record, then one per metrics row
    expect(Buffer.from(records[0]).toString('latin1')).toContain('brain.Event:2');
    expect(Buffer.from(records.at(-1)!).toString('latin1')).toContain('rollout/ep_rew_mean');

    const ev = cli('eval', '--checkpoint', join(out, 'checkpoint.safetensors'), '--episodes', '20', '--json');
    expect(ev.code, ev.stderr).toBe(0);
    const evaluation = JSON.parse(ev.stdout.trim());
    expect(evaluation.episodes).toBe(20);
    expect(evaluation.meanReturn).toBeGreaterThan(8);
    expect(evaluation.meanReturn).toBeLessThanOrEqual(200);
  });

  it('info names the adapter and the largest N', () => {
    const r = cli('info', '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.adapter.length).toBeGreaterThan(0);
    expect(info.maxNumEnvs).toBeGreaterThan(1_000_000);
  });

  const bad: [string[], RegExp][] = [
    [['train', '--num-envs', '0'], /--num-envs must be >= 1/],
    [['train', '--num-envs', '-3'], /--num-envs must be >= 1/],
    [['train', '--num-envs', '2.5'], /--num-envs must be an integer/],
    [['train', '--gamma', 'abc'], /--gamma must be a finite number/],
    [['train', '--gamma', 'NaN'], /--gamma must be a finite number/],
    [['train', '--learning-rate', 'Infinity'], /--learning-rate must be a finite number/],
    [['train', '--gamma', '1.5'], /--gamma must be <= 1/],
    [['train', '--learning-rate', '0'], /--learning-rate must be > 0/],
    [['train', '--env', 'Breakout-v5'], /--env must be one of CartPole-v1, CartPole-v0, Acrobot-v1, MountainCar-v0/],
    [['train', '--env', 'Pendulum-v1', '--algo', 'qac'], /--algo qac learns Q\(s, a\) for each of a Discrete env's actions; --env Pendulum-v1 has continuous \(Box\) actions/],
    [['train', '--net-arch', ''], /--net-arch must list hidden layer widths, like 64,64/],
    [['train', '--net-arch', '0'], /--net-arch: layer widths must be positive integers; got "0"/],
    [['train', '--net-arch=-64'], /--net-arch: layer widths must be positive integers; got "-64"/],
    [['train', '--net-arch', '64,,64'], /--net-arch: an empty layer width in "64,,64"/],
    [['train', '--net-arch', 'pi=64/vf='], /--net-arch: .*needs at least one layer width/],
    [['train', '--net-arch', '64', '--shared-trunk', 'true', '--net-arch', 'pi=64/vf=32'], /--shared-trunk needs the same hidden layers/],
    [['train', '--net-arch', '60000,60000'], /--net-arch: the network \(\d+ parameters per agent\) does not fit this adapter's buffers .*; the widest that fits at this depth is --net-arch \d+,\d+$/m],
    [['train', '--net-arch', '70000'], /--net-arch: a layer of 70000 units is more than 65536/],
    [['train', '--num-agents', '1024', '--net-arch', '1024,1024'], /--net-arch: the network \(\d+ parameters per agent, 1024 agents\) does not fit this adapter's buffers .*; the widest that fits at this depth is --net-arch \d+,\d+$/m],
    [['train', '--env-module', '/nonexistent.wgsl'], /--env-module: cannot read \/nonexistent.wgsl/],
    [['train', '--env-module', 'examples/catch/catch.wgsl', '--env', 'CartPole-v1'], /--env CartPole-v1 conflicts with --env-module/],
    [['bench', 'env', '--env', 'Breakout-v5'], /--env: unknown env "Breakout-v5"/],
    // A user's env module that does not compile: the file, line and column of the error in it.
    [['train', '--env-module', 'test/fixtures/envs/broken.wgsl'], /^webgpu-rl: test\/fixtures\/envs\/broken\.wgsl:44:\d+: /],
    [['train', '--env-module', 'test/fixtures/envs/mismatch.wgsl'], /mismatch\.wgsl does not match its descriptor: OBS_SIZE is 3 in the module, observationSize 4 in the descriptor/],
    [['train', '--algo', 'sac'], /--algo must be one of a2c, reinforce, qac, tdac, ppo; got "sac"/],
    // PPO's settings: minibatches that do not split the batch, a negative clip, no epochs, a KL target of 0.
    [['train', '--algo', 'ppo', '--num-envs', '6', '--n-steps', '5', '--num-minibatches', '4'], /--num-minibatches 4 does not divide the batch of --num-envs 6 × --n-steps 5 = 30 rows \(divisors up to 64: 1, 2, 3, 5, 6, 10, 15, 30\)/],
    [['train', '--algo', 'ppo', '--clip-coef', '-0.2'], /--clip-coef must be >= 0; got -0.2/],
    [['train', '--algo', 'ppo', '--update-epochs', '0'], /--update-epochs must be >= 1; got 0/],
    [['train', '--algo', 'ppo', '--target-kl', '0'], /--target-kl must be > 0 \(or none\); got 0/],
    [['train', '--algo', 'ppo', '--update-epochs', '100', '--num-minibatches', '64'], /--update-epochs 100 × --num-minibatches 64 is more than 4096 optimizer steps per update/],
    [['train', '--normalize-advantage', 'maybe'], /--normalize-advantage must be true or false/],
    [['train', '--bogus'], /Unknown option '--bogus'/],
    [['train', '--num-envs', '100000000'], /largest --num-envs that fits is \d+/],
    [['train', '--config', '/nonexistent.json'], /--config: cannot read/],
    [['bench', 'env', '--sizes', '1k,zero'], /--sizes: "zero" is not a positive size/],
    [['eval'], /eval needs --checkpoint/],
    [['eval', '--checkpoint', '/nonexistent'], /cannot read/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${args.join(' ')} with one line and exit code 2`, () => {
      const r = cli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('rejects a config file with a bad field', () => {
    const path = join(scratch, 'bad.json');
    writeFileSync(path, JSON.stringify({ gamma: 2 }));
    const r = cli('train', '--config', path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--gamma must be <= 1; got 2/);
    writeFileSync(path, JSON.stringify({ gama: 0.9 }));
    expect(cli('train', '--config', path).stderr).toMatch(/unknown config field "gama"/);
  });
});
