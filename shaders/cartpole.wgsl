// CartPole (Gymnasium's CartPoleEnv + TimeLimit) for N envs at once, one invocation per env.
// CPU reference: src/cpu/cartpole.ts. Prepended at build time: shaders/rng.wgsl.
//
// Buffers (N = params.num_envs):
//   states     [N] vec4 (x, x_dot, theta, theta_dot)  read-write: the current observation, reset where done
//   counters   [N] EnvCounters                        read-write: steps this episode, episode index, return
//   actions    [N] u32 in {0, 1}                      read
//   rewards    [N] f32                                overwritten: 1 on every step, the terminating one too
//   dones      [N] u32 bit 0 terminated, bit 1 truncated  overwritten
//   final_obs  [N] vec4                               overwritten: the stepped state before any reset
//   stats      EpisodeStats                           accumulated (atomics) until the host clears it
// Dynamics in Gymnasium's exact evaluation order (f32 here; constants are `override`s set from
// src/env/cartpole-params.ts). Reset states are U(-0.05, 0.05)^4 keyed by (seed, env, episode).

override gravity: f32 = 9.8;
override mass_pole: f32 = 0.1;
override total_mass: f32 = 1.1;
override pole_mass_length: f32 = 0.05;
override half_length: f32 = 0.5;
override force_mag: f32 = 10.0;
override tau: f32 = 0.02;
override semi_implicit: u32 = 0u;
override theta_threshold: f32 = 0.20943951023931953;
override x_threshold: f32 = 2.4;
override max_episode_steps: u32 = 500u;
override workgroup_size: u32 = 64u;

const STATS_RING: u32 = 256u;

struct EnvParams {
  num_envs: u32,
  seed: u32,
  num_steps: u32,     // steps per invocation of cartpoleRandomRollout
  step_counter: u32,  // global step index of the first of those steps (keys the random actions)
}

struct EnvCounters {
  elapsed: u32,
  episode: u32,
  episode_return: f32,
  _pad: u32,
}

struct EpisodeStats {
  finished: atomic<u32>,          // episodes finished since the host last cleared this buffer
  length_sum: atomic<u32>,
  _pad0: u32,
  _pad1: u32,
  // Returns of finished episodes, slot = finish order mod STATS_RING. When more than STATS_RING
  // finish between two reads the ring keeps an arbitrary subset of them.
  recent_returns: array<f32, STATS_RING>,
}

@group(0) @binding(0) var<uniform> params: EnvParams;
@group(0) @binding(1) var<storage, read_write> states: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> counters: array<EnvCounters>;
@group(0) @binding(3) var<storage, read> actions: array<u32>;
@group(0) @binding(4) var<storage, read_write> rewards: array<f32>;
@group(0) @binding(5) var<storage, read_write> dones: array<u32>;
@group(0) @binding(6) var<storage, read_write> final_obs: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> stats: EpisodeStats;

// Returns the new state; `terminated` is judged on it with Gymnasium's strict comparisons.
fn cartpole_dynamics(s: vec4<f32>, action: u32) -> vec4<f32> {
  let force = select(-force_mag, force_mag, action == 1u);
  let cos_theta = cos(s.z);
  let sin_theta = sin(s.z);
  let temp = (force + pole_mass_length * (s.w * s.w) * sin_theta) / total_mass;
  let theta_acc = (gravity * sin_theta - cos_theta * temp) /
                  (half_length * (4.0 / 3.0 - mass_pole * (cos_theta * cos_theta) / total_mass));
  let x_acc = temp - pole_mass_length * theta_acc * cos_theta / total_mass;
  if (semi_implicit == 1u) {
    let x_dot = s.y + tau * x_acc;
    let theta_dot = s.w + tau * theta_acc;
    return vec4<f32>(s.x + tau * x_dot, x_dot, s.z + tau * theta_dot, theta_dot);
  }
  return vec4<f32>(s.x + tau * s.y, s.y + tau * x_acc, s.z + tau * s.w, s.w + tau * theta_acc);
}

fn is_terminal(s: vec4<f32>) -> bool {
  return s.x < -x_threshold || s.x > x_threshold || s.z < -theta_threshold || s.z > theta_threshold;
}

fn reset_state(env: u32, episode: u32) -> vec4<f32> {
  var s: vec4<f32>;
  for (var lane = 0u; lane < 4u; lane++) {
    // (u - 0.5) is exact and the product rounds once: no fused multiply-add can change the bits.
    s[lane] = (rng_uniform(vec4<u32>(params.seed, RNG_STREAM_RESET + lane, env, episode)) - 0.5) * 0.1;
  }
  return s;
}

fn record_finished_episode(episode_return: f32, length: u32) {
  let slot = atomicAdd(&stats.finished, 1u);
  atomicAdd(&stats.length_sum, length);
  stats.recent_returns[slot % STATS_RING] = episode_return;
}

// One step with same-step autoreset. Returns the done bits (bit 0 terminated, bit 1 truncated).
fn step_env(s: ptr<function, vec4<f32>>, c: ptr<function, EnvCounters>, action: u32) -> u32 {
  *s = cartpole_dynamics(*s, action);
  (*c).elapsed += 1u;
  (*c).episode_return += 1.0;
  let terminated = is_terminal(*s);
  let truncated = (*c).elapsed >= max_episode_steps;
  return select(0u, 1u, terminated) | select(0u, 2u, truncated);
}

fn reset_if_done(env: u32, s: ptr<function, vec4<f32>>, c: ptr<function, EnvCounters>, done_bits: u32) {
  if (done_bits != 0u) {
    record_finished_episode((*c).episode_return, (*c).elapsed);
    (*c).episode += 1u;
    (*c).elapsed = 0u;
    (*c).episode_return = 0.0;
    *s = reset_state(env, (*c).episode);
  }
}

// Dispatches fold into 2-D beyond 65,535 workgroups; the env index is rebuilt here.
fn env_index(wid: vec3<u32>, lid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * workgroup_size + lid.x;
}

@compute @workgroup_size(workgroup_size)
fn cartpoleReset(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                 @builtin(num_workgroups) nwg: vec3<u32>) {
  let env = env_index(wid, lid, nwg);
  if (env >= params.num_envs) { return; }
  counters[env] = EnvCounters(0u, 0u, 0.0, 0u);
  states[env] = reset_state(env, 0u);
}

@compute @workgroup_size(workgroup_size)
fn cartpoleStep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
  let env = env_index(wid, lid, nwg);
  if (env >= params.num_envs) { return; }
  var s = states[env];
  var c = counters[env];
  let done_bits = step_env(&s, &c, actions[env]);
  final_obs[env] = s;
  rewards[env] = 1.0;
  dones[env] = done_bits;
  reset_if_done(env, &s, &c, done_bits);
  states[env] = s;
  counters[env] = c;
}

// params.num_steps steps of a uniform random policy with the state in registers: env-only throughput.
@compute @workgroup_size(workgroup_size)
fn cartpoleRandomRollout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>) {
  let env = env_index(wid, lid, nwg);
  if (env >= params.num_envs) { return; }
  var s = states[env];
  var c = counters[env];
  var bits = 0u;
  for (var t = 0u; t < params.num_steps; t++) {
    let step = params.step_counter + t;
    if (t == 0u || (step & 31u) == 0u) { bits = rng_u32(vec4<u32>(params.seed, RNG_STREAM_RANDOM_POLICY, env, step >> 5u)); }
    let done_bits = step_env(&s, &c, (bits >> (step & 31u)) & 1u);
    reset_if_done(env, &s, &c, done_bits);
  }
  states[env] = s;
  counters[env] = c;
}
