// The layered path's rollout and evaluation around the network (linear.wgsl runs the layers between
// these): from the actor's outputs and the critic's values of a chunk of envs at step t, act, step the
// env, record the row, autoreset; after the rollout, the bootstrap values. The policy head's half
// (sampling, the env's action type, binding 10) is layered_act_categorical.wgsl or
// layered_act_gaussian.wgsl, one of which follows this file. Prepended: the env module, rng.wgsl,
// env_interface.wgsl, train_params.wgsl, layered_slice.wgsl, policy.wgsl (and policy_gaussian.wgsl for the Gaussian head).
// CPU reference: src/cpu/rollout.ts.
//
// Rows and buffers as rollout.wgsl (row = agent·T·N + t·N + env), plus: z_out [G × R × A] the actor's
// outputs (logits or means) and v_out [G × R × V] the critic's, for the R envs (or final slots) of the
// slice; row_data as train_params.wgsl lays it out. Rewards are stored raw (value_buf .z);
// layered_observe.wgsl normalizes them after the rollout when asked. value_buf .y (the bootstrap) is 0
// after rolloutAct and filled by rolloutBootstrap. Evaluation binds its own env slots and writes
// (return, length) to value_buf[i].

@group(0) @binding(2) var<uniform> agents: array<AgentParams, MAX_AGENTS>;
@group(0) @binding(3) var<storage, read_write> envs: array<EnvSlot>;
@group(0) @binding(4) var<storage, read> z_out: array<f32>;
@group(0) @binding(5) var<storage, read> v_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> step_info: array<u32>;
@group(0) @binding(7) var<storage, read_write> value_buf: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> stats: array<EpisodeStats>;
@group(0) @binding(9) var<storage, read_write> row_data: array<f32>;

// Invocation i's row of z_out or v_out (layered_slice.wgsl act_row) as a vec4; lanes beyond the width 0.
fn actor_row(i: u32) -> vec4<f32> {
  let r = act_row(i);
  var o = vec4<f32>(0.0);
  for (var k = 0u; k < num_actions; k++) { o[k] = z_out[r * num_actions + k]; }
  return o;
}

fn critic_row(i: u32) -> vec4<f32> {
  let r = act_row(i);
  var o = vec4<f32>(0.0);
  for (var k = 0u; k < value_outputs; k++) { o[k] = v_out[r * value_outputs + k]; }
  return o;
}

// The env of invocation i of a slice: (agent, env index, slot index).
struct SliceEnv { agent: u32, env: u32, slot: u32 }

fn slice_env(i: u32) -> SliceEnv {
  let agent = i / slice.rows;
  let env = slice.first + i % slice.rows;
  return SliceEnv(agent, env, agent * train.num_envs + env);
}

fn rollout_row(e: SliceEnv) -> u32 { return e.agent * rows_per_agent() + slice.t * train.num_envs + e.env; }

fn record_finished_episode(agent: u32, episode_return: f32, length: u32) {
  let slot = atomicAdd(&stats[agent].finished, 1u);
  atomicAdd(&stats[agent].length_sum, length);
  stats[agent].recent_returns[slot % STATS_RING] = episode_return;
}

// Everything of step t of one env after the action: the reward, the row, the final observation of a
// truncated episode, the episode statistics, same-step autoreset.
fn finish_step(e: SliceEnv, slot: ptr<function, EnvSlot>, step: EnvStep, action_bits: u32, value: f32) {
  let row = rollout_row(e);
  var discounted = 0.0;
  if (normalize_reward == 1u) {
    // VecNormalize's `returns`: reset at every episode end, the truncated ones too (reset_slot).
    (*slot).c.discounted_return = (*slot).c.discounted_return * agents[e.agent].gamma + step.reward;
    discounted = (*slot).c.discounted_return;
  }
  let bits = done_bits(step, (*slot).c);
  if (bits == 2u) {
    let per_env = final_slots / train.num_envs;
    let final_slot = e.agent * final_slots + e.env * per_env + slice.t / max_episode_steps;
    let o = env_observe((*slot).s);
    for (var k = 0u; k < OBS_SIZE; k++) { row_data[final_slot * OBS_SIZE + k] = o[k]; }
    row_data[row_data_final_steps() + final_slot] = f32(slice.t);
  }
  value_buf[row] = vec4<f32>(value, 0.0, step.reward, discounted);
  step_info[row] = action_bits | (bits << 8u);
  if (bits != 0u) {
    record_finished_episode(e.agent, (*slot).c.episode_return, (*slot).c.elapsed);
    reset_slot(slot, agents[e.agent].seed, e.env);
  }
}

// The value that bootstraps a return from a state whose actor outputs are z and critic outputs v: V, or
// for a Q-critic Σ_a π(a) Q(a) (expected SARSA at rollout cuts and time limits).
fn bootstrap_value(z: vec4<f32>, v: vec4<f32>) -> f32 {
  if (value_outputs == 1u) { return v.x; }
  return dot_outputs(exp(log_softmax(z)), v, num_actions);
}

// Every env of the trainer (or of an evaluation) at episode 0 of its agent's seed.
@compute @workgroup_size(workgroup_size)
fn resetEnvs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * train.num_envs) { return; }
  let agent = i / train.num_envs;
  envs[i] = EnvSlot(env_reset(agents[agent].seed, i % train.num_envs, 0u), EnvCounters(0u, 0u, 0.0, 0.0));
}

// Final-observation slots of a bootstrap chunk (slice.first .. + slice.rows of each agent's final_slots):
// each filled one gives the bootstrap of its truncated row, the value of its final observation, whose
// outputs the layers just computed; then it is cleared for the next rollout.
@compute @workgroup_size(workgroup_size)
fn rolloutBootstrap(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                    @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let agent = i / slice.rows;
  let final_slot = slice.first + i % slice.rows;
  let at = row_data_final_steps() + agent * final_slots + final_slot;
  let t = row_data[at];
  if (t >= 0.0) {
    let env = final_slot / (final_slots / train.num_envs);
    value_buf[agent * rows_per_agent() + u32(t) * train.num_envs + env].y = bootstrap_value(actor_row(i), critic_row(i));
    row_data[at] = -1.0;
  }
}

// The value of the state after the rollout (s_T) of the slice's envs, from their outputs.
@compute @workgroup_size(workgroup_size)
fn rolloutLast(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let e = slice_env(i);
  value_buf[num_agents * rows_per_agent() + e.slot] = vec4<f32>(bootstrap_value(actor_row(i), critic_row(i)), 0.0, 0.0, 0.0);
}
