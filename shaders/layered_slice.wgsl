// The layered path's per-dispatch record, shared by its kernels (layered_observe, _act, _loss, _reduce):
// one record per (rollout step, chunk of envs), per chunk of rows and per chunk of final observations,
// all written once into one buffer and bound at a dynamic offset (the dispatches of one submit cannot see
// different values of one buffer written between them). Prepended: train_params.wgsl.

struct Slice {
  t: u32,          // the rollout (or evaluation) step; a PPO minibatch's epoch
  first: u32,      // the chunk's first env (rollout, evaluation), row of each agent's T·N (update), final slot,
                   // or position in a PPO epoch's shuffled order
  rows: u32,       // R: envs, rows or slots of this chunk, per agent
  store_obs: u32,  // 1: observeEnvs also stores the raw observation as row t of the rollout
  stride: u32,     // S: rows per agent in the activation buffers (x_in, the layers' outputs, z, v, dz, dv)
  offset: u32,     // the chunk's first row there: t·N for a rollout step when the rollout's activations are kept
  chunk: u32,      // the chunk's index in its group (the update's rows, or a PPO minibatch): 0 overwrites sums
  _pad1: u32,
}

@group(0) @binding(1) var<uniform> slice: Slice;

// Invocation i's row (i < G·R: agent i / R, row i % R of the chunk) in the activation buffers.
fn act_row(i: u32) -> u32 { return (i / slice.rows) * slice.stride + slice.offset + i % slice.rows; }
