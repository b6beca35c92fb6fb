/** webgpu-rl: reinforcement learning with the whole training loop in WebGPU compute shaders. */
export type { GpuContext } from './platform/gpu-context.ts';
export { NoAdapterError } from './platform/gpu-context.ts';
export { CARTPOLE_VERSIONS, cartPoleParams, type CartPoleId, type CartPoleParams, type Integrator } from './env/cartpole-params.ts';
export { CartPoleVecEnv, maxNumEnvs, type CartPoleVecEnvOptions, type EnvStates, type EpisodeStats, type VecStepResult } from './env/cartpole-vec-env.ts';
export { CpuCartPoleVecEnv, cartpoleStep } from './cpu/cartpole.ts';
export { rngU32, rngUniform } from './rng.ts';
export { CONFIG_SCHEMA, kebab, parseField, defaultConfig, resolveConfig, validateConfig, ConfigError, type Algo, type TrainConfig } from './config.ts';
export { train, evaluate, TrainingSession, DeviceLostError, GpuError, type TrainMetrics, type TrainResult, type TrainHooks, type TrainState, type EvalResult } from './trainer/train.ts';
export { GpuTrainer, maxTrainEnvs, UPDATE_PHASES, type Phase } from './trainer/gpu-trainer.ts';
export { encodeCheckpoint, decodeCheckpoint, CheckpointError, CHECKPOINT_FORMAT, type Checkpoint } from './checkpoint.ts';
export { paramLayout, type NetShape, type ParamLayout } from './model/layout.ts';
export { LinearOp, type LinearBinding, type LinearBuffers, type LinearDims } from './ops/linear.ts';
