// The network's input rows for the layered path (networks of any depth, either policy head): each row
// the observation normalized by the agent's frozen running statistics, O floats, agent-major [G × R × O],
// what linear.wgsl's first layer reads. Prepended: the env module, rng.wgsl, env_interface.wgsl,
// train_params.wgsl, layered_slice.wgsl, ppo_shuffle.wgsl, normalize_apply.wgsl. CPU reference: src/cpu/rollout.ts (networkInputs, the rollout's input).
//
//   observeEnvs       rows = envs slice.first .. + slice.rows of every agent: s_t of each env; with
//                     slice.store_obs also its raw observation as row t of the rollout
//   prepareRows       rows = slice.rows rows of the rollout from slice.first: the update's chunk, from obs_buf
//   prepareFinal      slice.rows final-observation slots from slice.first (the bootstrap of truncated episodes)
//   prepareMinibatch  PPO: slice.rows rows of epoch slice.t's shuffled order from position slice.first
//                     (ppo_shuffle.wgsl: row ppo_permute(seed, update, epoch, T·N, position) of each agent)
//   normalizeRewards  every row's reward scaled by the frozen return statistics (VecNormalize), after the
//                     rollout stored raw ones: the same value the fused rollout computes as it steps
// Buffers: envs [G×N] EnvSlot read; obs_buf [G×T×N × OV] vec4 read-write; norm_stats read;
// x_in [G × R × O] f32 overwritten; row_data read (train_params.wgsl: the final observations);
// value_buf [G×T×N] (value, bootstrap, reward, discounted return) read-write; agents (uniform): the seed of
// the PPO shuffle.

@group(0) @binding(2) var<storage, read> envs: array<EnvSlot>;
@group(0) @binding(3) var<storage, read_write> obs_buf: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> norm_stats: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> x_in: array<f32>;
@group(0) @binding(6) var<storage, read> row_data: array<f32>;
@group(0) @binding(7) var<storage, read_write> value_buf: array<vec4<f32>>;
@group(0) @binding(8) var<uniform> agents: array<AgentParams, MAX_AGENTS>;

fn write_input(row: u32, agent: u32, raw: Obs) {
  let x = normalize_obs_of(agent, raw);
  for (var k = 0u; k < OBS_SIZE; k++) { x_in[row * OBS_SIZE + k] = x[k / 4u][k % 4u]; }
}

@compute @workgroup_size(workgroup_size)
fn observeEnvs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let n = train.num_envs;
  let agent = i / slice.rows;
  let env = slice.first + i % slice.rows;
  let raw = observe(envs[agent * n + env].s);
  if (slice.store_obs == 1u) {
    let row = agent * rows_per_agent() + slice.t * n + env;
    for (var k = 0u; k < OBS_VEC4S; k++) { obs_buf[row * OBS_VEC4S + k] = raw[k]; }
  }
  write_input(act_row(i), agent, raw);
}

@compute @workgroup_size(workgroup_size)
fn prepareRows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let agent = i / slice.rows;
  let row = agent * rows_per_agent() + slice.first + i % slice.rows;
  var raw: Obs;
  for (var k = 0u; k < OBS_VEC4S; k++) { raw[k] = obs_buf[row * OBS_VEC4S + k]; }
  write_input(act_row(i), agent, raw);
}

@compute @workgroup_size(workgroup_size)
fn prepareMinibatch(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                    @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let agent = i / slice.rows;
  let batch = rows_per_agent();
  let row = agent * batch + ppo_permute(agents[agent].seed, train.update, slice.t, batch, slice.first + i % slice.rows);
  var raw: Obs;
  for (var k = 0u; k < OBS_VEC4S; k++) { raw[k] = obs_buf[row * OBS_VEC4S + k]; }
  write_input(act_row(i), agent, raw);
}

@compute @workgroup_size(workgroup_size)
fn prepareFinal(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * slice.rows) { return; }
  let agent = i / slice.rows;
  let row = agent * final_slots + slice.first + i % slice.rows;
  var raw: Obs;
  for (var k = 0u; k < OBS_VEC4S; k++) {
    var v = vec4<f32>(0.0);
    for (var lane = 0u; lane < 4u; lane++) {
      let j = 4u * k + lane;
      if (j < OBS_SIZE) { v[lane] = row_data[row * OBS_SIZE + j]; }
    }
    raw[k] = v;
  }
  write_input(act_row(i), agent, raw);
}

@compute @workgroup_size(workgroup_size)
fn normalizeRewards(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                    @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(wid, lid, nwg);
  if (i >= num_agents * rows_per_agent()) { return; }
  value_buf[i].z = normalize_reward_of(i / rows_per_agent(), value_buf[i].z);
}
