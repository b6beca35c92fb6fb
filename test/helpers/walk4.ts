/**
 * Walk4-test (test/fixtures/envs/walk4.wgsl, a user's env module): five observations, four actions, a
 * 40-step time limit; registered with its CPU twin so the update tests can run on it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { envIds, registerEnv } from '../../src/envs/registry.ts';
import type { CpuEnv } from '../../src/envs/types.ts';
import { parseEnvModule } from '../../src/envs/user-module.ts';
import { rngUniform, RNG_STREAM_RESET } from '../../src/rng.ts';

const f = Math.fround;
/** CPU twin of test/fixtures/envs/walk4.wgsl, in the GPU's f32 arithmetic. */
const walk4Cpu: CpuEnv = {
  reset(state, seed, env, episode) {
    state[0] = f(rngUniform(seed, RNG_STREAM_RESET, env, episode) - 0.5);
    state[1] = f(rngUniform(seed, RNG_STREAM_RESET + 1, env, episode) - 0.5);
  },
  step(state, action, _precision, out) {
    const a = action as number;
    const d = f(0.1);
    state[0] = f(state[0] + (a === 0 ? -d : a === 1 ? d : 0));
    state[1] = f(state[1] + (a === 2 ? -d : a === 3 ? d : 0));
    out.reward = f(-Math.abs(state[0]) - Math.abs(state[1]));
    out.terminated = Math.max(Math.abs(state[0]), Math.abs(state[1])) > 1;
  },
  observe(state, out) {
    out.set([state[0], state[1], f(state[0] + state[1]), f(state[0] - state[1]), 1]);
  },
};
const walk4Path = fileURLToPath(new URL('../fixtures/envs/walk4.wgsl', import.meta.url));

/** Registers Walk4-test (once per module graph). */
export function registerWalk4(): void {
  if (!envIds().includes('Walk4-test')) registerEnv({ ...parseEnvModule(readFileSync(walk4Path, 'utf8'), walk4Path), cpu: walk4Cpu });
}
