// Rollout: each invocation steps one env (or four) through all T steps of an update with the state in
// registers: observation (normalized when asked), actor forward, categorical sampling, critic forward, the
// env's step, same-step autoreset. Written against the env interface (env_interface.wgsl): any env module
// with a Discrete(A <= 4) action space. Prepended: the env module, rng.wgsl, env_interface.wgsl,
// train_params.wgsl, normalize_apply.wgsl, policy.wgsl, network.wgsl. CPU reference: src/cpu/rollout.ts.
//
// Buffers (G agents, N envs each, T steps; row = agent * T*N + t * N + env; slot = agent * N + env;
// OV = OBS_VEC4S, A = num_actions):
//   packed     [G × stride] vec4     uniform: the weights per hidden unit (optimizer.wgsl packWeights)
//   envs       [G×N] EnvSlot         read-write: state and episode counters carried across updates
//   obs_buf    [G×T×N × OV] vec4     overwritten: the raw observation of s_t (zero-padded)
//   step_info  [G×T×N] u32           overwritten: a_t | terminated_t << 8 | truncated_t << 9
//   logits_buf [G×T×N × A] f32       overwritten: actor logits at s_t (the update reuses them: on-policy)
//   value_buf  [G×T×N + G×N] vec4    overwritten: (V(s_t) or Q(s_t, a_t), bootstrap value of the final
//                                    observation where truncated and not terminated, r_t (normalized when
//                                    asked), the discounted return that normalizes rewards (0 otherwise));
//                                    rows G*T*N + slot hold the bootstrap value of s_T
//   stats      [G] EpisodeStats      accumulated (raw rewards)
//   norm_stats [G × (2·OV + 1)] vec4 read: the running statistics, frozen for the update
//   agents     [G] AgentParams       uniform: each agent's seed and discount
// evaluatePolicy runs one fresh episode per invocation (K = train.num_envs per agent) and writes
// (return, length) to value_buf[agent * K + episode].

@group(0) @binding(1) var<uniform> packed: array<vec4<f32>, PACKED_VEC4S>;
@group(0) @binding(2) var<storage, read_write> envs: array<EnvSlot>;
@group(0) @binding(3) var<storage, read_write> obs_buf: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> step_info: array<u32>;
@group(0) @binding(5) var<storage, read_write> logits_buf: array<f32>;
@group(0) @binding(6) var<storage, read_write> value_buf: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> stats: array<EpisodeStats>;
@group(0) @binding(8) var<storage, read> norm_stats: array<vec4<f32>>;
@group(0) @binding(9) var<uniform> agents: array<AgentParams, MAX_AGENTS>;

fn agent_seed(agent: u32) -> u32 { return agents[agent].seed; }

fn record_finished_episode(agent: u32, episode_return: f32, length: u32) {
  let slot = atomicAdd(&stats[agent].finished, 1u);
  atomicAdd(&stats[agent].length_sum, length);
  // One return per episode: the host reads min(finished, STATS_RING) slots (returns_written stays 0).
  stats[agent].recent_returns[slot % STATS_RING] = episode_return;
}

// The network's view of an env's state: its observation, normalized with the agent's frozen statistics.
fn network_input(agent: u32, s: EnvState) -> Obs {
  return normalize_obs_of(agent, observe(s));
}

// Everything of step t of one env after the forward passes: store the row, sample, step, autoreset.
fn advance(agent: u32, env: u32, t: u32, slot: ptr<function, EnvSlot>, raw: Obs, z: vec4<f32>, v: vec4<f32>) {
  let row = agent * rows_per_agent() + t * train.num_envs + env;
  for (var k = 0u; k < OBS_VEC4S; k++) { obs_buf[row * OBS_VEC4S + k] = raw[k]; }
  for (var a = 0u; a < num_actions; a++) { logits_buf[row * num_actions + a] = z[a]; }
  let u = rng_uniform(vec4<u32>(agent_seed(agent), RNG_STREAM_ACTION, env, train.update * train.n_steps + t));
  let action = sample_action(log_softmax(z), u);
  var value = v.x;
  if (value_outputs > 1u) { value = v[action]; }
  let step = advance_env(slot, action);
  var discounted = 0.0;
  if (normalize_reward == 1u) {
    // VecNormalize's `returns`: reset at every episode end, the truncated ones too (reset_slot).
    (*slot).c.discounted_return = (*slot).c.discounted_return * agents[agent].gamma + step.reward;
    discounted = (*slot).c.discounted_return;
  }
  let bits = done_bits(step, (*slot).c);
  var bootstrap = 0.0;
  if (bits == 2u) { bootstrap = state_value(network_input(agent, (*slot).s)); }   // time limit only: the episode could go on
  value_buf[row] = vec4<f32>(value, bootstrap, normalize_reward_of(agent, step.reward), discounted);
  step_info[row] = action | (bits << 8u);
  if (bits != 0u) {
    record_finished_episode(agent, (*slot).c.episode_return, (*slot).c.elapsed);
    reset_slot(slot, agent_seed(agent), env);
  }
}

// One env per invocation: for small N, where latency (T steps in sequence) is what counts.
@compute @workgroup_size(workgroup_size)
fn rolloutCollect(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
  let slot_index = flat_index(wid, lid, nwg);
  let n = train.num_envs;
  if (slot_index >= num_agents * n) { return; }
  let agent = slot_index / n;
  let env = slot_index % n;
  packed_base = agent * packed_stride();
  var slot = envs[slot_index];
  for (var t = 0u; t < train.n_steps; t++) {
    let raw = observe(slot.s);
    let x = normalize_obs_of(agent, raw);
    advance(agent, env, t, &slot, raw, actor_logits(x), critic_values(x));
  }
  value_buf[num_agents * rows_per_agent() + slot_index] = vec4<f32>(state_value(network_input(agent, slot.s)), 0.0, 0.0, 0.0);
  envs[slot_index] = slot;
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
  var slots: array<EnvSlot, 4>;
  for (var e = 0u; e < 4u; e++) {
    // Envs past N (a partial last quad) run on a copy of the quad's first env and are never stored.
    slots[e] = envs[base + select(first, first + e, first + e < n)];
  }
  for (var t = 0u; t < train.n_steps; t++) {
    var raw: array<Obs, 4>;
    var x: array<Obs, 4>;
    for (var e = 0u; e < 4u; e++) {
      raw[e] = observe(slots[e].s);
      x[e] = normalize_obs_of(agent, raw[e]);
    }
    let x4 = obs4(x[0], x[1], x[2], x[3]);
    let z = actor_logits4(x4);
    let v = critic_values4(x4);
    for (var e = 0u; e < 4u; e++) {
      if (first + e < n) {
        // Through a local, not &slots[e]: naga (Firefox) fails on pointers into arrays passed to functions.
        var se = slots[e];
        advance(agent, first + e, t, &se, raw[e], env_outputs(z, e), env_outputs(v, e));
        slots[e] = se;
      }
    }
  }
  let last = state_values4(obs4(network_input(agent, slots[0].s), network_input(agent, slots[1].s),
                                network_input(agent, slots[2].s), network_input(agent, slots[3].s)));
  for (var e = 0u; e < 4u; e++) {
    if (first + e < n) {
      value_buf[num_agents * rows_per_agent() + base + first + e] = vec4<f32>(last[e], 0.0, 0.0, 0.0);
      envs[base + first + e] = slots[e];
    }
  }
}

// Reset of every env of the trainer: episode 0 from the seeded reset distribution.
@compute @workgroup_size(workgroup_size)
fn rolloutReset(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
  let slot_index = flat_index(wid, lid, nwg);
  if (slot_index >= num_agents * train.num_envs) { return; }
  let agent = slot_index / train.num_envs;
  envs[slot_index] = EnvSlot(env_reset(agent_seed(agent), slot_index % train.num_envs, 0u), EnvCounters(0u, 0u, 0.0, 0.0));
}

@compute @workgroup_size(workgroup_size)
fn evaluatePolicy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * train.num_envs) { return; }
  let agent = i / train.num_envs;
  let episode = i % train.num_envs;
  packed_base = agent * packed_stride();
  var slot = EnvSlot(env_reset(agent_seed(agent), episode, 0u), EnvCounters(0u, 0u, 0.0, 0.0));
  for (var t = 0u; t < max_episode_steps; t++) {
    let z = actor_logits(network_input(agent, slot.s));
    var action = greedy_action(z);
    if (train.greedy == 0u) {
      action = sample_action(log_softmax(z), rng_uniform(vec4<u32>(agent_seed(agent), RNG_STREAM_EVAL_ACTION, episode, t)));
    }
    if (done_bits(advance_env(&slot, action), slot.c) != 0u) { break; }
  }
  value_buf[i] = vec4<f32>(slot.c.episode_return, f32(slot.c.elapsed), 0.0, 0.0);
}
