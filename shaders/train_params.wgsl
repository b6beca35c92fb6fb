// Declarations shared by every trainer kernel (rollout, advantages, actor_critic_backward, optimizer,
// normalize): the per-update uniform, the network shape and parameter layout (overrides set from
// src/model/layout.ts and src/trainer/gpu-trainer.ts), the agent dimension, the metrics slots,
// activations, the packed-weight layout. Prepended to it in every trainer module: the env module,
// rng.wgsl and env_interface.wgsl (OBS_SIZE, OBS_VEC4S, Obs, EnvSlot).

override workgroup_size: u32 = 64u;
override hidden_size: u32 = 64u;
override num_actions: u32 = 2u;     // A <= 4: a categorical policy over the env's Discrete(A)
override value_outputs: u32 = 1u;   // 1: V(s); A: Q(s, ·)
override activation: u32 = 0u;      // 0: ReLU, 1: tanh
override algo: u32 = 0u;            // 0: a2c, 1: reinforce, 2: qac, 3: tdac, 4: ppo
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
// VecNormalize (Stable-Baselines3): observations and/or rewards scaled by running statistics, frozen
// within an update and merged from its rollout at the update's end (normalize.wgsl).
override normalize_obs: u32 = 0u;
override normalize_reward: u32 = 0u;

// The weights repacked per hidden unit for the forward passes (optimizer.wgsl packWeights writes them,
// network.wgsl reads them as a uniform buffer). Per agent, unit j at j * unit_vec4s:
//   actor:  w1[:, j] (OBS_VEC4S vec4s, zero-padded), then (b1[j], w2[j, 0], w2[j, 1], w2[j, 2]) and, for
//           A = 4, (w2[j, 3], 0, 0, 0): actor_rows vec4s
//   critic: the same with the critic's tensors (critic_rows vec4s for its V outputs)
// then after the H units: (actor b2 in A lanes), (critic b2 in V lanes). Stride unit_vec4s·H + 2.
override unit_vec4s: u32 = 4u;   // 2·OBS_VEC4S + actor_rows + critic_rows
override actor_rows: u32 = 1u;
override critic_rows: u32 = 1u;

fn packed_stride() -> u32 { return unit_vec4s * hidden_size + 2u; }
fn actor_unit(base: u32, j: u32) -> u32 { return base + j * unit_vec4s; }
fn critic_unit(base: u32, j: u32) -> u32 { return base + j * unit_vec4s + OBS_VEC4S + actor_rows; }
fn output_biases(base: u32) -> u32 { return base + hidden_size * unit_vec4s; }

// One agent's running statistics (normalize.wgsl) in vec4s: observation mean [OBS_VEC4S], observation
// variance [OBS_VEC4S], then (discounted-return mean, its variance, 0, 0).
fn norm_stride() -> u32 { return 2u * OBS_VEC4S + 1u; }

const ALGO_A2C: u32 = 0u;
const ALGO_REINFORCE: u32 = 1u;
const ALGO_QAC: u32 = 2u;
const ALGO_TDAC: u32 = 3u;
const ALGO_PPO: u32 = 4u;          // advantages as a2c (GAE)

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
// PPO (layered_ppo.wgsl): the last minibatch's approximate KL, the sum of the minibatches' clip fractions and
// their count, the epochs run, 1 once the target KL stopped this update, Adam's step count (kept across
// updates: a stopped update takes fewer steps) and this step's bias-corrected step size and √(1 − β2ᵗ).
const M_APPROX_KL: u32 = 11u;
const M_CLIP_FRACTION_SUM: u32 = 12u;
const M_MINIBATCHES: u32 = 13u;
const M_EPOCHS: u32 = 14u;
const M_KL_STOPPED: u32 = 15u;
const M_ADAM_STEPS: u32 = 16u;
const M_STEP_SIZE: u32 = 17u;
const M_BIAS_CORRECTION2_SQRT: u32 = 18u;
const NUM_METRICS: u32 = 24u;

// SB3's VecNormalize constants: epsilon under the square root, and the clip of normalized values.
const NORM_EPS: f32 = 1e-8;
const NORM_CLIP: f32 = 10.0;

// What every agent shares, written by the host before each update.
struct TrainParams {
  num_envs: u32,
  n_steps: u32,
  _unused_seed: u32,      // agent seeds live in AgentParams
  update: u32,            // update index: keys the action RNG together with the step
  num_groups: u32,        // workgroups of actorCriticBackward (and rows of the partial-gradient buffer)
  greedy: u32,            // evaluation: argmax instead of sampling
  optimizer: u32,         // 0 Adam, 1 RMSprop
  _pad: u32,
  // Running statistics merge of this update (normalize.wgsl), from the host in f64: with c the count so
  // far and B the rollout's rows, B / (c + B) and c / (c + B).
  norm_weight_new: f32,
  norm_weight_old: f32,
}

// What may differ per agent (a hyper-parameter sweep trains G settings side by side): every scalar that
// changes no buffer's shape. Written by the host before each update, in f64 where PyTorch computes in
// Python floats (src/cpu/optimizer.ts), from config.agents[a] over the shared config (src/config.ts
// agentConfig). The kernels that need it declare `agents: array<AgentParams, MAX_AGENTS>` as a uniform.
struct AgentParams {
  seed: u32,              // keys the agent's resets and action sampling (evaluation: its evaluation seed)
  normalize_advantage: u32,
  ent_coef: f32,
  vf_coef: f32,
  gamma: f32,
  gae_lambda: f32,
  max_grad_norm: f32,     // <= 0: no clipping
  step_size: f32,         // Adam: lr / (1 - beta1^t); RMSprop and PPO: lr (the agent's schedule at this update)
  bias_correction2_sqrt: f32,
  beta2: f32,             // RMSprop: alpha
  eps: f32,
  one_minus_beta1: f32,   // 1 - beta1 rounded once, as PyTorch's Python float
  one_minus_beta2: f32,
  clip_coef: f32,         // PPO: the ratio's clip range [1 − c, 1 + c], and the value's around the rollout's
  target_kl: f32,         // PPO: stop the update's epochs past this approximate KL; <= 0: never
  _pad2: u32,
}

// The layered path's row data: [G × final_slots × O] the raw final observations of episodes truncated
// (not terminated) during the rollout, env e's j-th one in slot e·K + j (j = t / max_episode_steps: an
// env truncates at most once per max_episode_steps steps; K = ⌈T / max_episode_steps⌉, final_slots = N·K);
// [G × T·N × A] a Gaussian policy's unclipped actions; [G × final_slots] the step t of each final
// observation, −1 for none (the bootstrap pass reads and clears them).
override final_slots: u32 = 1u;
fn row_data_actions() -> u32 { return num_agents * final_slots * OBS_SIZE; }
fn row_data_final_steps() -> u32 { return row_data_actions() + num_agents * rows_per_agent() * num_actions; }

// 64 KiB, WebGPU's default maxUniformBufferBindingSize: 1024 agents of 64 bytes.
const MAX_AGENTS: u32 = 1024u;

@group(0) @binding(0) var<uniform> train: TrainParams;

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

// Outputs (logits, values) travel as vec4s whose lanes >= `outputs` are unused (A, V <= 4). These two
// touch only the live lanes: `outputs` is an override, so the branches fold away at pipeline creation
// and CartPole's two logits cost two multiply-adds, not four.
fn dot_outputs(a: vec4<f32>, b: vec4<f32>, outputs: u32) -> f32 {
  var s = a.x * b.x;
  if (outputs > 1u) { s += a.y * b.y; }
  if (outputs > 2u) { s += a.z * b.z; }
  if (outputs > 3u) { s += a.w * b.w; }
  return s;
}

fn axpy_outputs(acc: vec4<f32>, h: f32, w: vec4<f32>, outputs: u32) -> vec4<f32> {
  var r = acc;
  r.x += h * w.x;
  if (outputs > 1u) { r.y += h * w.y; }
  if (outputs > 2u) { r.z += h * w.z; }
  if (outputs > 3u) { r.w += h * w.w; }
  return r;
}

fn is_nonfinite(x: f32) -> bool {
  // x != x is folded away by compilers; the exponent bits are not.
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

fn flat_index(wid: vec3<u32>, lid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * workgroup_size + lid.x;
}
