// Declarations shared by every trainer kernel (rollout, advantages, actor_critic_backward, optimizer):
// the per-update uniform, the network shape and parameter layout (overrides set from
// src/model/layout.ts), the agent dimension, the metrics slots, activations.

const OBS_SIZE: u32 = 4u;      // CartPole's observation

override workgroup_size: u32 = 64u;
override hidden_size: u32 = 64u;
override value_outputs: u32 = 1u;   // 1: V(s); 2: Q(s, ·). The policy has CartPole's two actions.
override activation: u32 = 0u;      // 0: ReLU, 1: tanh
override algo: u32 = 0u;            // 0: a2c, 1: reinforce, 2: qac, 3: tdac
override off_actor_w1: u32 = 0u;
override off_actor_b1: u32 = 0u;
override off_actor_w2: u32 = 0u;
override off_actor_b2: u32 = 0u;
override off_critic_w1: u32 = 0u;
override off_critic_b1: u32 = 0u;
override off_critic_w2: u32 = 0u;
override off_critic_b2: u32 = 0u;
override num_params: u32 = 0u;
// G agents trained side by side, same shape and hyper-parameters, agent a seeded with seed + a. Each
// buffer holds the agents one after another: params [G×P], env slots [G×N], rollout rows [G×T×N]
// (agent-major), metrics [G×NUM_METRICS], episode stats [G]. Agent 0 is exactly a G = 1 run.
override num_agents: u32 = 1u;

const ALGO_A2C: u32 = 0u;
const ALGO_REINFORCE: u32 = 1u;
const ALGO_QAC: u32 = 2u;
const ALGO_TDAC: u32 = 3u;

// metrics[] slots (f32; the flag is stored as a float 0/1/2/…)
const M_WEIGHT_SUM: u32 = 0u;       // rows that carry a loss (all but REINFORCE's unfinished episodes)
const M_ADV_MEAN: u32 = 1u;
const M_ADV_STD: u32 = 2u;
const M_EXPLAINED_VAR: u32 = 3u;
const M_POLICY_LOSS: u32 = 4u;
const M_VALUE_LOSS: u32 = 5u;
const M_ENTROPY: u32 = 6u;
const M_GRAD_NORM: u32 = 7u;
const M_NONFINITE: u32 = 8u;        // 0 ok; 1 loss, 2 gradients, 4 parameters (bits): the update was skipped
const M_CLIP_SCALE: u32 = 9u;
const M_FIRST_NONFINITE_UPDATE: u32 = 10u;  // 1 + the first update whose step was skipped; 0 if none (sticky)
const NUM_METRICS: u32 = 16u;

struct TrainParams {
  num_envs: u32,
  n_steps: u32,
  seed: u32,
  update: u32,            // update index: keys the action RNG together with the step
  ent_coef: f32,
  vf_coef: f32,
  gamma: f32,
  gae_lambda: f32,
  max_grad_norm: f32,     // <= 0: no clipping
  normalize_advantage: u32,
  num_groups: u32,        // workgroups of actorCriticBackward (and rows of the partial-gradient buffer)
  greedy: u32,            // evaluation: argmax instead of sampling
  // Optimizer, precomputed on the host in f64 the way PyTorch does (src/cpu/optimizer.ts):
  step_size: f32,         // Adam: lr / (1 - beta1^t); RMSprop: lr
  bias_correction2_sqrt: f32,
  beta1: f32,
  beta2: f32,             // RMSprop: alpha
  eps: f32,
  optimizer: u32,         // 0 Adam, 1 RMSprop
  one_minus_beta1: f32,   // from the host in f64: 1 - beta1 rounded once, as PyTorch's Python float
  one_minus_beta2: f32,
}

@group(0) @binding(0) var<uniform> train: TrainParams;

fn agent_seed(agent: u32) -> u32 { return train.seed + agent; }
fn rows_per_agent() -> u32 { return train.num_envs * train.n_steps; }
fn metric(agent: u32, slot: u32) -> u32 { return agent * NUM_METRICS + slot; }

fn activate(pre: f32) -> f32 {
  // Clamped: some backends build tanh from exp and return NaN for |x| > ~44; tanh(±15) is ±1 in f32.
  if (activation == 1u) { return tanh(clamp(pre, -15.0, 15.0)); }
  return max(pre, 0.0);
}

fn activate4(pre: vec4<f32>) -> vec4<f32> {
  if (activation == 1u) { return tanh(clamp(pre, vec4<f32>(-15.0), vec4<f32>(15.0))); }
  return max(pre, vec4<f32>(0.0));
}

fn activate_grad4(pre: vec4<f32>, out: vec4<f32>) -> vec4<f32> {
  if (activation == 1u) { return 1.0 - out * out; }
  return select(vec4<f32>(0.0), vec4<f32>(1.0), pre > vec4<f32>(0.0));
}

// d activation / d pre, from the pre-activation (ReLU) or the output (tanh).
fn activate_grad(pre: f32, out: f32) -> f32 {
  if (activation == 1u) { return 1.0 - out * out; }
  return select(0.0, 1.0, pre > 0.0);
}

fn is_nonfinite(x: f32) -> bool {
  // x != x is folded away by compilers; the exponent bits are not.
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

fn flat_index(wid: vec3<u32>, lid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * workgroup_size + lid.x;
}
