/**
 * Every shader module, with the override constants of several configs, compiled by a second WebGPU
 * implementation: wgpu/naga (Firefox's), through the `deno` npm package, on the same Vulkan driver.
 * WGSL that Dawn's Tint accepts but naga rejects would break the demo in Firefox. Covered: every built-in
 * env's vector env and the Catch example's (a user's module, handed over as text), the trainer's kernels on
 * CartPole, Acrobot-v1 and MountainCar-v0, the layered path's kernels (networks of any depth, the Gaussian
 * head on Box envs) on four configs, and the demo's env views (each env with its view, the generic view
 * with Catch) as render pipelines. Kernels get the explicit bind group layouts createKernel makes (dynamic
 * offsets included), so a binding kind naga disagrees with fails here too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { viewSpec } from '../../demo/env-view.ts';
import { defaultConfig, type TrainConfig } from '../../src/config.ts';
import { cartPoleSpec } from '../../src/envs/cartpole.ts';
import { BUILTIN_ENV_IDS, envSpec } from '../../src/envs/registry.ts';
import type { EnvSpec } from '../../src/envs/types.ts';
import { parseEnvModule } from '../../src/envs/user-module.ts';
import { envConstants, envModulePart, vecEnvKernelSpec } from '../../src/envs/vec-env.ts';
import { paramLayout } from '../../src/model/layout.ts';
import { netShapeOf, trainConstantsOf, trainerKernelSpecs } from '../../src/trainer/gpu-trainer.ts';
import { layeredKernelSpecs } from '../../src/trainer/layered.ts';

function specsFor(partial: Partial<TrainConfig>) {
  const config = { ...defaultConfig(partial.algo, partial.env), ...partial };
  return Object.values(trainerKernelSpecs(config, paramLayout(netShapeOf(config)), envSpec(config.env))).map((s) => ({ ...s, label: `${s.label} ${JSON.stringify(partial)}` }));
}

/** The layered path's kernels for a config: its own (src/trainer/layered.ts) and the trainer's it shares. */
function layeredSpecsFor(partial: Partial<TrainConfig>) {
  const config = { ...defaultConfig(partial.algo, partial.env), ...partial };
  const spec = envSpec(config.env);
  const layout = paramLayout(netShapeOf(config));
  const { advantages, optimizer, normalize } = trainerKernelSpecs(config, layout, spec);
  const own = Object.values(layeredKernelSpecs(config, layout, spec, trainConstantsOf(config, layout, spec)));
  return [...own, advantages, optimizer, normalize].map((s) => ({ ...s, label: `${s.label} ${JSON.stringify(partial)}` }));
}

/** The demo's view of an env (demo/env-view.ts): the env's module, rng, the interface, the view, the skeleton. */
function viewModule(spec: EnvSpec) {
  const view = viewSpec(spec);
  return {
    label: `demo view ${view.name} of ${spec.id}`,
    stems: [envModulePart(spec), 'rng', 'env_interface', `../demo/views/${view.name}`, '../demo/views/view'],
    entryPoints: [],
    constants: envConstants(spec),
    render: { vertex: 'viewVertex', fragment: 'viewFragment' },
  };
}

describe('shaders under wgpu/naga (Firefox) as well as Dawn/Tint', () => {
  it('compile and validate, every entry point, for several configs and every env', () => {
    const catchPath = 'examples/catch/catch.wgsl';
    // Parsed, not registered: the module travels as text, as a user's module reaches the kernels.
    const catchSpec = parseEnvModule(readFileSync(catchPath, 'utf8'), catchPath);
    const builtins = BUILTIN_ENV_IDS.map(envSpec);
    const modules = [
      { label: 'rng_check', stems: ['rng', 'rng_check'], entryPoints: ['rngCheck'], constants: {} },
      { label: 'gaussian_check', stems: ['rng', 'policy_gaussian', 'gaussian_check'], entryPoints: ['gaussianCheck'], constants: { num_actions: 3 } },
      { label: 'ppo_shuffle_check', stems: ['rng', 'ppo_shuffle', 'ppo_shuffle_check'], entryPoints: ['ppoShuffleCheck'], constants: {}, bindings: ['uniform', 'storage'] },
      { label: 'linear', stems: ['linear'], entryPoints: ['linearForward', 'linearBackwardInput', 'linearBackwardWeights', 'linearReduceWeights'], constants: { K: 1030, N: 2049, C4: 2, D4: 4, BK4: 2, BN4: 2 } },
      { ...vecEnvKernelSpec(cartPoleSpec('CartPole-v1', { integrator: 'semi-implicit-euler' })), label: 'vec_env CartPole-v1 semi-implicit-euler' },
      ...[...builtins, catchSpec].map(vecEnvKernelSpec),
      ...specsFor({}),
      ...specsFor({ algo: 'qac', activation: 'relu', hidden: 300 }),
      ...specsFor({ algo: 'reinforce', env: 'CartPole-v0' }),
      ...specsFor({ algo: 'tdac', sharedTrunk: true, numAgents: 3 }),
      ...specsFor({ env: 'Acrobot-v1' }),
      ...specsFor({ env: 'MountainCar-v0', normalizeObservations: true, normalizeRewards: true }),
      ...layeredSpecsFor({ netArch: '64,64', activation: 'relu' }),
      ...layeredSpecsFor({ env: 'Acrobot-v1', algo: 'qac', netArch: 'pi=32,16/vf=8', normalizeObservations: true, normalizeRewards: true }),
      ...layeredSpecsFor({ env: 'Pendulum-v1', netArch: '64,64' }),
      ...layeredSpecsFor({ env: 'MountainCarContinuous-v0', hidden: 32, sharedTrunk: true, normalizeObservations: true }),
      ...layeredSpecsFor({ algo: 'ppo', netArch: '64,64' }),
      ...layeredSpecsFor({ env: 'Pendulum-v1', algo: 'ppo', clipVloss: false, normalizeObservations: true }),
      ...[...builtins, catchSpec].map(viewModule),
    ];
    const dir = mkdtempSync(join(tmpdir(), 'webgpu-rl-naga-'));
    const list = join(dir, 'modules.json');
    writeFileSync(list, JSON.stringify(modules));
    const r = spawnSync('node_modules/.bin/deno', ['run', '--unstable-webgpu', '--allow-read', '--allow-env', 'test/platform/naga-check.ts', '.', list], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', DENO_NO_UPDATE_CHECK: '1' },
    });
    rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, string[]>;
    expect(Object.keys(results).sort()).toEqual(modules.map((m) => m.label).sort());
    for (const [label, errors] of Object.entries(results)) expect(errors, label).toEqual([]);
  });
});
