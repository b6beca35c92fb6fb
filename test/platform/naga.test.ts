/**
 * Every shader module, with the override constants of several configs, compiled by a second WebGPU
 * implementation: wgpu/naga (Firefox's), through the `deno` npm package, on the same Vulkan driver.
 * WGSL that Dawn's Tint accepts but naga rejects would break the demo in Firefox.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type TrainConfig } from '../../src/config.ts';
import { cartPoleSpec } from '../../src/envs/cartpole.ts';
import { envSpec } from '../../src/envs/registry.ts';
import { vecEnvKernelSpec } from '../../src/envs/vec-env.ts';
import { paramLayout } from '../../src/model/layout.ts';
import { netShapeOf, trainerKernelSpecs } from '../../src/trainer/gpu-trainer.ts';

function specsFor(partial: Partial<TrainConfig>) {
  const config = { ...defaultConfig(partial.algo), ...partial };
  return Object.values(trainerKernelSpecs(config, paramLayout(netShapeOf(config)), envSpec(config.env))).map((s) => ({ ...s, label: `${s.label} ${JSON.stringify(partial)}` }));
}

describe('shaders under wgpu/naga (Firefox) as well as Dawn/Tint', () => {
  it('compile and validate, every entry point, for several configs', () => {
    const modules = [
      { label: 'rng_check', stems: ['rng', 'rng_check'], entryPoints: ['rngCheck'], constants: {} },
      { label: 'linear', stems: ['linear'], entryPoints: ['linearForward', 'linearBackwardInput', 'linearBackwardWeights', 'linearReduceWeights'], constants: {} },
      // The demo's render shader: module validation only (the check script builds compute pipelines).
      { label: 'demo cartpole-view', stems: ['../demo/cartpole-view'], entryPoints: [], constants: {} },
      vecEnvKernelSpec(cartPoleSpec('CartPole-v1', { integrator: 'semi-implicit-euler' })),
      ...specsFor({}),
      ...specsFor({ algo: 'qac', activation: 'relu', hidden: 300 }),
      ...specsFor({ algo: 'reinforce', env: 'CartPole-v0' }),
      ...specsFor({ algo: 'tdac', sharedTrunk: true, numAgents: 3 }),
    ];
    const r = spawnSync('node_modules/.bin/deno', ['run', '--unstable-webgpu', '--allow-read', '--allow-env', 'test/platform/naga-check.ts', '.', JSON.stringify(modules)], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', DENO_NO_UPDATE_CHECK: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, string[]>;
    expect(Object.keys(results)).toHaveLength(modules.length);
    for (const [label, errors] of Object.entries(results)) expect(errors, label).toEqual([]);
  });
});
