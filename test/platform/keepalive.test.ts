/**
 * Regression test for a Dawn crash (../shared/PLATFORM.md): if the object returned by `create()` is
 * garbage-collected while a device lives, dawn.node dies with SIGABRT/SIGSEGV/SIGBUS or hangs.
 * createNodeGpuContext() must keep it alive; the child forces gc() between readbacks to prove it.
 * It runs in its own process because the failure mode is a native crash or a hang.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = 'test/platform/keepalive-child.ts';
const CHILD_TIMEOUT_MS = 60_000;

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

function runChild(): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD], {
      cwd: ROOT,
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR || tmpdir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderr });
    });
  });
}

describe('Dawn instance keep-alive', () => {
  it(
    'survives forced gc() between 4 MiB readbacks while only the GpuContext holds the create() object',
    async () => {
      const result = await runChild();
      const stderrTail = result.stderr
        .split('\n')
        .filter((line) => !line.includes('artificially reduced'))
        .join('\n')
        .slice(-2000);
      const summary = `child ${result.timedOut ? `hung (killed after ${CHILD_TIMEOUT_MS / 1000} s)` : `exited with code ${result.code}, signal ${result.signal}`}\nstdout: ${result.stdout.slice(-500)}\nstderr: ${stderrTail}`;
      expect(result.timedOut, summary).toBe(false);
      expect({ code: result.code, signal: result.signal }, summary).toEqual({ code: 0, signal: null });
      expect(result.stdout, summary).toContain('keepalive ok');
    },
    CHILD_TIMEOUT_MS + 30_000,
  );
});
