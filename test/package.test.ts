import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('the package as a library', () => {
  it('builds, and its root and node entries import by name, step envs and train on the GPU', () => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'pipe' });
    const script = `
      import { CartPoleVecEnv, CARTPOLE_VERSIONS, train } from 'webgpu-rl';
      import { createNodeGpuContext } from 'webgpu-rl/node';
      const ctx = await createNodeGpuContext();
      const env = CartPoleVecEnv.create(ctx, { numEnvs: 3, env: 'CartPole-v0' });
      await env.reset(1);
      const out = await env.step([0, 1, 0]);
      const result = await train(ctx, { env: 'CartPole-v0', totalSteps: 2048, evalEpisodes: 4 });
      console.log(JSON.stringify({ obs: out.obs.length, limit: CARTPOLE_VERSIONS['CartPole-v0'].maxEpisodeSteps, steps: result.envSteps }));
      ctx.destroy();`;
    const stdout = execFileSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ obs: 12, limit: 200, steps: 2048 });
  });
});
