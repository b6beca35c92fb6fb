/** webgpu-rl: reinforcement learning with the whole training loop in WebGPU compute shaders. */
export type { GpuContext } from './platform/gpu-context.ts';
export { NoAdapterError } from './platform/gpu-context.ts';
export { CARTPOLE_VERSIONS, cartPoleParams, type CartPoleId, type CartPoleParams, type Integrator } from './env/cartpole-params.ts';
export { CartPoleVecEnv, maxNumEnvs, type CartPoleVecEnvOptions, type EnvStates, type EpisodeStats, type VecStepResult } from './env/cartpole-vec-env.ts';
export { CpuCartPoleVecEnv, cartpoleStep } from './cpu/cartpole.ts';
export { rngU32, rngUniform } from './rng.ts';
