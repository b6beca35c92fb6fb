// A vector of N envs of one env module (the interface: env_interface.wgsl), one invocation per env:
// reset, one step with actions from a buffer, or many steps of a random policy with the state in
// registers. Behind makeVecEnv (src/envs/vec-env.ts); CPU reference: src/envs/cpu-vec-env.ts with the
// env's own reference. Prepended: the env module, rng.wgsl, env_interface.wgsl.
//
// Buffers (N = params.num_envs, O = OBS_SIZE):
//   slots      [N] EnvSlot    read-write: state and episode counters; reset where an episode ended
//   actions    [N] EnvAction  read
//   obs        [N × OV] vec4  reset: every env's first observation; step: written only where an episode ended
//                            (the next one's first observation; elsewhere it equals final_obs, and the host
//                            takes it from there: a step then writes 16·OV fewer bytes per env).
//                            OV = ceil(O / 4) vec4s per env, the last one zero-padded
//   rewards    [N] f32        overwritten
//   dones      [N] u32        overwritten: bit 0 terminated, bit 1 truncated
//   final_obs  [N × OV] vec4  overwritten: the observation of the stepped state, before any reset
//   stats      EpisodeStats   accumulated (atomics) until the host clears it

override workgroup_size: u32 = 64u;

struct EnvParams {
  num_envs: u32,
  seed: u32,
  num_steps: u32,     // steps per invocation of envRandomRollout
  step_counter: u32,  // global index of the first of those steps (keys the random actions)
}

@group(0) @binding(0) var<uniform> params: EnvParams;
@group(0) @binding(1) var<storage, read_write> slots: array<EnvSlot>;
@group(0) @binding(2) var<storage, read> actions: array<EnvAction>;
@group(0) @binding(3) var<storage, read_write> obs: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> rewards: array<f32>;
@group(0) @binding(5) var<storage, read_write> dones: array<u32>;
@group(0) @binding(6) var<storage, read_write> final_obs: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> stats: EpisodeStats;

// Dispatches fold into 2-D beyond 65,535 workgroups; the env index is rebuilt here.
fn env_index(wid: vec3<u32>, lid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return (wid.y * nwg.x + wid.x) * workgroup_size + lid.x;
}

fn record_return(episode_return: f32) {
  let slot = atomicAdd(&stats.returns_written, 1u);
  stats.recent_returns[slot % STATS_RING] = episode_return;
}

fn write_obs(env: u32, s: EnvState) {
  let x = observe(s);
  for (var k = 0u; k < OBS_VEC4S; k++) { obs[env * OBS_VEC4S + k] = x[k]; }
}

@compute @workgroup_size(workgroup_size)
fn envReset(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
  let env = env_index(wid, lid, nwg);
  if (env >= params.num_envs) { return; }
  let s = env_reset(params.seed, env, 0u);
  slots[env] = EnvSlot(s, EnvCounters(0u, 0u, 0.0, 0.0));
  write_obs(env, s);
}

@compute @workgroup_size(workgroup_size)
fn envStep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
           @builtin(num_workgroups) nwg: vec3<u32>) {
  let env = env_index(wid, lid, nwg);
  if (env >= params.num_envs) { return; }
  var slot = slots[env];
  let step = advance_env(&slot, actions[env]);
  let bits = done_bits(step, slot.c);
  let x = observe(slot.s);
  for (var k = 0u; k < OBS_VEC4S; k++) { final_obs[env * OBS_VEC4S + k] = x[k]; }
  rewards[env] = step.reward;
  dones[env] = bits;
  if (bits != 0u) {
    atomicAdd(&stats.finished, 1u);
    atomicAdd(&stats.length_sum, slot.c.elapsed);
    record_return(slot.c.episode_return);
    reset_slot(&slot, params.seed, env);
    write_obs(env, slot.s);
  }
  slots[env] = slot;
}

// params.num_steps steps of a uniform random policy with the state in registers: env-only throughput.
// Finished episodes are counted in registers and added with one atomic per invocation at the end (per-
// episode atomics on two addresses serialized the whole dispatch); the ring gets each invocation's last
// finished return. Observations are not written: nothing reads them.
@compute @workgroup_size(workgroup_size)
fn envRandomRollout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                    @builtin(num_workgroups) nwg: vec3<u32>) {
  let env = env_index(wid, lid, nwg);
  if (env >= params.num_envs) { return; }
  var slot = slots[env];
  var finished = 0u;
  var length_sum = 0u;
  var last_return = 0.0;
  for (var t = 0u; t < params.num_steps; t++) {
    let step = advance_env(&slot, env_random_action(params.seed, env, params.step_counter + t));
    if (done_bits(step, slot.c) != 0u) {
      finished += 1u;
      length_sum += slot.c.elapsed;
      last_return = slot.c.episode_return;
      reset_slot(&slot, params.seed, env);
    }
  }
  slots[env] = slot;
  if (finished > 0u) {
    atomicAdd(&stats.finished, finished);
    atomicAdd(&stats.length_sum, length_sum);
    record_return(last_return);
  }
}
