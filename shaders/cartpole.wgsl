// CartPole (Gymnasium's CartPoleEnv + TimeLimit) for N envs at once, one invocation per env.
// CPU reference: src/cpu/cartpole.ts. Prepended: shaders/rng.wgsl, shaders/cartpole_dynamics.wgsl.
//
// Buffers (N = params.num_envs):
//   states     [N] vec4 (x, x_dot, theta, theta_dot)  read-write: the current observation, reset where done
//   counters   [N] EnvCounters                        read-write: steps this episode, episode index, return
//   actions    [N] u32 in {0, 1}                      read
//   rewards    [N] f32                                overwritten: 1 on every step, the terminating one too
//   dones      [N] u32 bit 0 terminated, bit 1 truncated  overwritten
//   final_obs  [N] vec4                               overwritten: the stepped state before any reset
//   stats      EpisodeStats                           accumulated (atomics) until the host clears it
//              (struct in cartpole_dynamics.wgsl)
// Dynamics: shaders/cartpole_dynamics.wgsl. Reset states are U(-0.05, 0.05)^4 keyed by (seed, env, episode).

override workgroup_size: u32 = 64u;

struct EnvParams {
  num_envs: u32,
  seed: u32,
  num_steps: u32,     // steps per invocation of cartpoleRandomRollout
  step_counter: u32,  // global step index of the first of those steps (keys the random actions)
}

@group(0) @binding(0) var<uniform> params: EnvParams;
@group(0) @binding(1) var<storage, read_write> states: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> counters: array<EnvCounters>;
@group(0) @binding(3) var<storage, read> actions: array<u32>;
@group(0) @binding(4) var<storage, read_write> rewards: array<f32>;
@group(0) @binding(5) var<storage, read_write> dones: array<u32>;
@group(0) @binding(6) var<storage, read_write> final_obs: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> stats: EpisodeStats;

fn record_finished_episode(episode_return: f32, length: u32) {
  let slot = atomicAdd(&stats.finished, 1u);
  atomicAdd(&stats.length_sum, length);
  stats.recent_returns[slot % STATS_RING] = episode_return;
}

fn reset_if_done(env: u32, s: ptr<function, vec4<f32>>, c: ptr<function, EnvCounters>, done_bits: u32) {
  if (done_bits != 0u) {
    record_finished_episode((*c).episode_return, (*c).elapsed);
    (*c).episode += 1u;
    (*c).elapsed = 0u;
    (*c).episode_return = 0.0;
    *s = reset_state(params.seed, env, (*c).episode);
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
  states[env] = reset_state(params.seed, env, 0u);
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
// Finished episodes are counted in registers and added with one atomic per invocation at the end (a
// random policy ends an episode every ~22 steps; per-episode atomics on two addresses serialized the
// whole dispatch); the ring gets each invocation's last finished return.
@compute @workgroup_size(workgroup_size)
fn cartpoleRandomRollout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                         @builtin(num_workgroups) nwg: vec3<u32>) {
  let env = env_index(wid, lid, nwg);
  if (env >= params.num_envs) { return; }
  var s = states[env];
  var c = counters[env];
  var bits = 0u;
  var finished = 0u;
  var length_sum = 0u;
  var last_return = 0.0;
  for (var t = 0u; t < params.num_steps; t++) {
    let step = params.step_counter + t;
    if (t == 0u || (step & 31u) == 0u) { bits = rng_u32(vec4<u32>(params.seed, RNG_STREAM_RANDOM_POLICY, env, step >> 5u)); }
    if (step_env(&s, &c, (bits >> (step & 31u)) & 1u) != 0u) {
      finished += 1u;
      length_sum += c.elapsed;
      last_return = c.episode_return;
      c.episode += 1u;
      c.elapsed = 0u;
      c.episode_return = 0.0;
      s = reset_state(params.seed, env, c.episode);
    }
  }
  states[env] = s;
  counters[env] = c;
  if (finished > 0u) {
    let slot = atomicAdd(&stats.finished, finished);
    atomicAdd(&stats.length_sum, length_sum);
    stats.recent_returns[slot % STATS_RING] = last_return;
  }
}
