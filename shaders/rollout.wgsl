// Rollout: each invocation steps one env through all T steps of an update with the state in registers:
// actor forward, categorical sampling, critic forward, CartPole step, same-step autoreset.
// Prepended: rng.wgsl, cartpole_dynamics.wgsl, train_params.wgsl, network.wgsl. CPU reference: src/cpu/rollout.ts.
//
// Buffers (G agents, N envs each, T steps; row = agent * T*N + t * N + env; slot = agent * N + env):
//   packed     [G × (4H + 1)] vec4   uniform: the weights per hidden unit (optimizer.wgsl packWeights)
//   envs       [G×N] EnvSlot         read-write: state and episode counters carried across updates
//   obs_buf    [G×T×N] vec4          overwritten: s_t
//   step_info  [G×T×N] u32           overwritten: a_t | terminated_t << 8 | truncated_t << 9
//   logits_buf [G×T×N] vec2          overwritten: actor logits at s_t (the update reuses them: on-policy)
//   value_buf  [G×T×N + G×N] vec4    overwritten: (V(s_t) or Q(s_t, a_t), bootstrap value of the final
//                                    observation where truncated and not terminated, r_t, 0);
//                                    rows G*T*N + slot hold the bootstrap value of s_T
//   stats      [G] EpisodeStats      accumulated
// evaluatePolicy runs one fresh episode per invocation (K = train.num_envs per agent) and writes
// (return, length) to value_buf[agent * K + episode].

struct EnvSlot {
  s: vec4<f32>,
  c: EnvCounters,
}

@group(0) @binding(1) var<uniform> packed: array<vec4<f32>, PACKED_VEC4S>;
@group(0) @binding(2) var<storage, read_write> envs: array<EnvSlot>;
@group(0) @binding(3) var<storage, read_write> obs_buf: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> step_info: array<u32>;
@group(0) @binding(5) var<storage, read_write> logits_buf: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> value_buf: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> stats: array<EpisodeStats>;

// Inverse CDF of the two-action categorical distribution at u in [0, 1).
fn sample_action(logp: vec2<f32>, u: f32) -> u32 {
  return select(1u, 0u, u < exp(logp.x));
}

fn greedy_action(z: vec2<f32>) -> u32 {
  return select(0u, 1u, z.y > z.x);
}

fn record_finished_episode(agent: u32, episode_return: f32, length: u32) {
  let slot = atomicAdd(&stats[agent].finished, 1u);
  atomicAdd(&stats[agent].length_sum, length);
  stats[agent].recent_returns[slot % STATS_RING] = episode_return;
}

// Everything of step t of one env after the forward passes: store the row, sample, step, autoreset.
fn advance(agent: u32, env: u32, t: u32, s: ptr<function, vec4<f32>>, c: ptr<function, EnvCounters>, z: vec2<f32>, v: vec2<f32>) {
  let row = agent * rows_per_agent() + t * train.num_envs + env;
  obs_buf[row] = *s;
  logits_buf[row] = z;
  let u = rng_uniform(vec4<u32>(agent_seed(agent), RNG_STREAM_ACTION, env, train.update * train.n_steps + t));
  let action = sample_action(log_softmax(z), u);
  let value = select(v.x, v.y, value_outputs == 2u && action == 1u);
  let done_bits = step_env(s, c, action);
  var bootstrap = 0.0;
  if (done_bits == 2u) { bootstrap = state_value(*s); }   // time limit only: the episode could go on
  value_buf[row] = vec4<f32>(value, bootstrap, 1.0, 0.0);
  step_info[row] = action | (done_bits << 8u);
  if (done_bits != 0u) {
    record_finished_episode(agent, (*c).episode_return, (*c).elapsed);
    (*c).episode += 1u;
    (*c).elapsed = 0u;
    (*c).episode_return = 0.0;
    *s = reset_state(agent_seed(agent), env, (*c).episode);
  }
}

// One env per invocation: for small N, where latency (T steps in sequence) is what counts.
@compute @workgroup_size(workgroup_size)
fn rolloutCollect(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
  let slot = flat_index(wid, lid, nwg);
  let n = train.num_envs;
  if (slot >= num_agents * n) { return; }
  let agent = slot / n;
  let env = slot % n;
  packed_base = agent * packed_stride();
  var s = envs[slot].s;
  var c = envs[slot].c;
  for (var t = 0u; t < train.n_steps; t++) {
    advance(agent, env, t, &s, &c, actor_logits(s), critic_values(s));
  }
  value_buf[num_agents * rows_per_agent() + slot] = vec4<f32>(state_value(s), 0.0, 0.0, 0.0);
  envs[slot] = EnvSlot(s, c);
}

// Four envs per invocation (envs 4i .. 4i+3 of one agent), their forward passes batched: each weight
// read from the packed buffer serves four envs. For large N, where throughput is what counts
// (measured on lavapipe: the weight reads, not the arithmetic, bound the one-env kernel).
@compute @workgroup_size(workgroup_size)
fn rolloutCollect4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                   @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = train.num_envs;
  let quads = (n + 3u) / 4u;
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * quads) { return; }
  let agent = i / quads;
  let first = (i % quads) * 4u;
  let base = agent * n;
  packed_base = agent * packed_stride();
  var s: array<vec4<f32>, 4>;
  var c: array<EnvCounters, 4>;
  for (var e = 0u; e < 4u; e++) {
    if (first + e < n) {
      s[e] = envs[base + first + e].s;
      c[e] = envs[base + first + e].c;
    } else {
      s[e] = vec4<f32>(0.0);
      c[e] = EnvCounters(0u, 0u, 0.0, 0u);
    }
  }
  for (var t = 0u; t < train.n_steps; t++) {
    let x = mat4x4<f32>(s[0], s[1], s[2], s[3]);
    let z = actor_logits4(x);
    let v = critic_values4(x);
    for (var e = 0u; e < 4u; e++) {
      if (first + e < n) {
        // Through locals, not &s[e]: naga (Firefox) fails on pointers into arrays passed to functions.
        var se = s[e];
        var ce = c[e];
        advance(agent, first + e, t, &se, &ce, vec2<f32>(z[0][e], z[1][e]), vec2<f32>(v[0][e], v[1][e]));
        s[e] = se;
        c[e] = ce;
      }
    }
  }
  let last = state_values4(mat4x4<f32>(s[0], s[1], s[2], s[3]));
  for (var e = 0u; e < 4u; e++) {
    if (first + e < n) {
      value_buf[num_agents * rows_per_agent() + base + first + e] = vec4<f32>(last[e], 0.0, 0.0, 0.0);
      envs[base + first + e] = EnvSlot(s[e], c[e]);
    }
  }
}

// Reset of every env of the trainer: episode 0 from the seeded reset distribution.
@compute @workgroup_size(workgroup_size)
fn rolloutReset(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
  let slot = flat_index(wid, lid, nwg);
  if (slot >= num_agents * train.num_envs) { return; }
  let agent = slot / train.num_envs;
  envs[slot] = EnvSlot(reset_state(agent_seed(agent), slot % train.num_envs, 0u), EnvCounters(0u, 0u, 0.0, 0u));
}

@compute @workgroup_size(workgroup_size)
fn evaluatePolicy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * train.num_envs) { return; }
  let agent = i / train.num_envs;
  let episode = i % train.num_envs;
  packed_base = agent * packed_stride();
  var s = reset_state(agent_seed(agent), episode, 0u);
  var c = EnvCounters(0u, 0u, 0.0, 0u);
  for (var t = 0u; t < max_episode_steps; t++) {
    let z = actor_logits(s);
    var action = greedy_action(z);
    if (train.greedy == 0u) {
      action = sample_action(log_softmax(z), rng_uniform(vec4<u32>(agent_seed(agent), RNG_STREAM_EVAL_ACTION, episode, t)));
    }
    if (step_env(&s, &c, action) != 0u) { break; }
  }
  value_buf[i] = vec4<f32>(c.episode_return, f32(c.elapsed), 0.0, 0.0);
}
