/** webgpu-rl: reinforcement learning with the whole training loop in WebGPU compute shaders. */
export type { GpuContext } from './platform/gpu-context.ts';
export { NoAdapterError } from './platform/gpu-context.ts';
export { CARTPOLE_VERSIONS, cartPoleParams, cartPoleSpec, cartpoleStep, type CartPoleId, type CartPoleParams, type Integrator } from './envs/cartpole.ts';
export { envIds, envSpec, registerEnv, unregisterEnv, checkEnvSpec, EnvError, BUILTIN_ENV_IDS } from './envs/registry.ts';
export type { ActionSpace, BoxSpace, CpuEnv, CpuStep, DiscreteSpace, EnvModuleSource, EnvSpec, Precision } from './envs/types.ts';
export {
  makeVecEnv,
  VecEnv,
  CartPoleVecEnv,
  maxNumEnvs,
  type VecEnvOptions,
  type CartPoleVecEnvOptions,
  type EnvStates,
  type EpisodeStats,
  type VecStepResult,
} from './envs/vec-env.ts';
export { CpuVecEnv, CpuCartPoleVecEnv, type CpuStepResult } from './envs/cpu-vec-env.ts';
export { parseEnvModule, checkEnvModule, descriptorPath, envInterface } from './envs/user-module.ts';
export { rngU32, rngUniform } from './rng.ts';
export {
  CONFIG_SCHEMA,
  ENV_DEFAULTS,
  ENV_ALGO_DEFAULTS,
  kebab,
  parseField,
  defaultConfig,
  resolveConfig,
  validateConfig,
  checkTrainable,
  agentConfig,
  agentSeed,
  AGENT_FIELDS,
  ConfigError,
  type Algo,
  type AgentField,
  type AgentSettings,
  type TrainConfig,
} from './config.ts';
export { train, evaluate, TrainingSession, DeviceLostError, GpuError, type TrainMetrics, type TrainResult, type TrainHooks, type TrainState, type EvalResult } from './trainer/train.ts';
export { GpuTrainer, maxTrainEnvs, UPDATE_PHASES, type Phase } from './trainer/gpu-trainer.ts';
export { encodeCheckpoint, decodeCheckpoint, agentCheckpoint, CheckpointError, CHECKPOINT_FORMAT, type Checkpoint } from './checkpoint.ts';
export { paramLayout, type NetShape, type ParamLayout } from './model/layout.ts';
export { LinearOp, type LinearBinding, type LinearBuffers, type LinearDims } from './ops/linear.ts';
