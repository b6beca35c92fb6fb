// Backward pass of the actor-critic loss over the rollout's B = T*N rows, reduced per workgroup.
// Prepended: train_params.wgsl, network.wgsl. CPU reference: src/cpu/losses.ts, src/cpu/actor-critic.ts.
//
//   loss = -mean_w(Â log pi(a|s)) + vf_coef mean_w((V - R)^2) - ent_coef mean_w(H(pi(.|s)))
//   dz_k = (w/W) (-Â (1[k=a] - p_k) + ent_coef p_k (log p_k + H));   dV = (w/W) 2 vf_coef (V - R)
//   (W = sum of weights; Â normalized with the moments of advantages.wgsl when asked; for a Q critic
//   dV lands in the taken action's column.) Through each layer: dh = dz W2ᵀ ⊙ act'(pre),
//   dW2 = hᵀ dz, db2 = Σ dz, dW1 = xᵀ dh, db1 = Σ dh. The hidden layer is recomputed, not stored.
//
// Buffers: obs_buf, step_info, logits_buf, value_buf, targets (from the rollout and advantages.wgsl) read;
// partials [num_groups, P + 4] overwritten: row w = workgroup w's sum of gradients over its rows, then
// the weighted sums of the policy loss, value loss and entropy. optimizer.wgsl reduces the rows in a
// fixed order, so the result is bit-repeatable (no atomics).
// Workgroup w handles the 64-row chunks w, w + num_groups, ...; thread `lid` owns hidden units
// lid, lid + 64, ... of both networks.

@group(0) @binding(1) var<storage, read> net_params: array<f32>;
@group(0) @binding(2) var<storage, read> obs_buf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> step_info: array<u32>;
@group(0) @binding(4) var<storage, read> logits_buf: array<f32>;
@group(0) @binding(5) var<storage, read> value_buf: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> targets: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;
@group(0) @binding(8) var<storage, read> metrics: array<f32>;

const CHUNK: u32 = 64u;   // = the workgroup size of this entry point
var<workgroup> sh_x: array<vec4<f32>, CHUNK>;
var<workgroup> sh_dz: array<f32, 128>;   // CHUNK * MAX_ACTIONS
var<workgroup> sh_dv: array<f32, 128>;
var<workgroup> sh_red: array<f32, CHUNK>;

fn reduce_chunk(lid: u32, v: f32) -> f32 {
  sh_red[lid] = v;
  workgroupBarrier();
  for (var stride = CHUNK / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { sh_red[lid] += sh_red[lid + stride]; }
    workgroupBarrier();
  }
  let total = sh_red[0];
  workgroupBarrier();
  return total;
}

fn accumulate(index: u32, value: f32, first: bool) {
  if (first) { partials[index] = value; } else { partials[index] += value; }
}

@compute @workgroup_size(64)
fn actorCriticBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let rows = train.num_envs * train.n_steps;
  let num_chunks = (rows + CHUNK - 1u) / CHUNK;
  let base = wid.x * (num_params + 4u);
  let inv_weight = 1.0 / max(metrics[M_WEIGHT_SUM], 1.0);
  let adv_mean = metrics[M_ADV_MEAN];
  let adv_scale = 1.0 / (metrics[M_ADV_STD] + 1e-8);
  let h = hidden_size;
  var loss_sums = vec3<f32>(0.0);   // weighted sums of policy loss, value loss, entropy
  var db2_actor: array<f32, MAX_ACTIONS>;
  var db2_critic: array<f32, MAX_ACTIONS>;

  for (var chunk = wid.x; chunk < num_chunks; chunk += train.num_groups) {
    let first = chunk == wid.x;
    // Phase 1: one row per thread, its output gradients into workgroup memory.
    let row = chunk * CHUNK + lid;
    var x = vec4<f32>(0.0);
    var dz: array<f32, MAX_ACTIONS>;
    var dv: array<f32, MAX_ACTIONS>;
    if (row < rows) {
      let tg = targets[row];
      if (tg.z > 0.0) {
        x = obs_buf[row];
        let action = step_info[row] & 0xffu;
        var adv = tg.x;
        if (train.normalize_advantage == 1u) { adv = (adv - adv_mean) * adv_scale; }
        var z: array<f32, MAX_ACTIONS>;
        for (var k = 0u; k < num_actions; k++) { z[k] = logits_buf[row * num_actions + k]; }
        let logp = log_softmax(z);
        var entropy = 0.0;
        for (var k = 0u; k < num_actions; k++) { entropy -= exp(logp[k]) * logp[k]; }
        let scale = tg.z * inv_weight;
        for (var k = 0u; k < num_actions; k++) {
          let p = exp(logp[k]);
          dz[k] = scale * (-adv * (select(0.0, 1.0, k == action) - p) + train.ent_coef * p * (logp[k] + entropy));
        }
        let err = value_buf[row].x - tg.y;
        dv[select(action, 0u, value_outputs == 1u)] = scale * 2.0 * train.vf_coef * err;
        loss_sums += tg.z * vec3<f32>(-adv * logp[action], err * err, entropy);
      }
    }
    sh_x[lid] = x;
    for (var k = 0u; k < MAX_ACTIONS; k++) {
      sh_dz[lid * MAX_ACTIONS + k] = dz[k];
      sh_dv[lid * MAX_ACTIONS + k] = dv[k];
      db2_actor[k] += dz[k];
      db2_critic[k] += dv[k];
    }
    workgroupBarrier();

    // Phase 2: each thread runs its hidden units over the chunk's rows.
    for (var j = lid; j < h; j += CHUNK) {
      let w1a = vec4<f32>(net_params[off_actor_w1 + j], net_params[off_actor_w1 + h + j],
                          net_params[off_actor_w1 + 2u * h + j], net_params[off_actor_w1 + 3u * h + j]);
      let w1c = vec4<f32>(net_params[off_critic_w1 + j], net_params[off_critic_w1 + h + j],
                          net_params[off_critic_w1 + 2u * h + j], net_params[off_critic_w1 + 3u * h + j]);
      let b1a = net_params[off_actor_b1 + j];
      let b1c = net_params[off_critic_b1 + j];
      var dw1a = vec4<f32>(0.0);
      var dw1c = vec4<f32>(0.0);
      var db1a = 0.0;
      var db1c = 0.0;
      var dw2a: array<f32, MAX_ACTIONS>;
      var dw2c: array<f32, MAX_ACTIONS>;
      for (var r = 0u; r < CHUNK; r++) {
        let xr = sh_x[r];
        let pre_a = b1a + dot(xr, w1a);
        let ha = activate(pre_a);
        var dha = 0.0;
        for (var k = 0u; k < num_actions; k++) {
          let g = sh_dz[r * MAX_ACTIONS + k];
          dha += g * net_params[off_actor_w2 + j * num_actions + k];
          dw2a[k] += ha * g;
        }
        dha *= activate_grad(pre_a, ha);
        dw1a += xr * dha;
        db1a += dha;

        let pre_c = b1c + dot(xr, w1c);
        let hc = activate(pre_c);
        var dhc = 0.0;
        for (var k = 0u; k < value_outputs; k++) {
          let g = sh_dv[r * MAX_ACTIONS + k];
          dhc += g * net_params[off_critic_w2 + j * value_outputs + k];
          dw2c[k] += hc * g;
        }
        dhc *= activate_grad(pre_c, hc);
        dw1c += xr * dhc;
        db1c += dhc;
      }
      for (var i = 0u; i < OBS_SIZE; i++) {
        accumulate(base + off_actor_w1 + i * h + j, dw1a[i], first);
        accumulate(base + off_critic_w1 + i * h + j, dw1c[i], first);
      }
      accumulate(base + off_actor_b1 + j, db1a, first);
      accumulate(base + off_critic_b1 + j, db1c, first);
      for (var k = 0u; k < num_actions; k++) { accumulate(base + off_actor_w2 + j * num_actions + k, dw2a[k], first); }
      for (var k = 0u; k < value_outputs; k++) { accumulate(base + off_critic_w2 + j * value_outputs + k, dw2c[k], first); }
    }
    workgroupBarrier();
  }

  // Output biases and loss terms: sums over this workgroup's threads. A workgroup without chunks
  // (more groups than chunks) still writes its row, so the reduction reads no stale values.
  let no_chunks = wid.x >= num_chunks;
  if (no_chunks) {
    for (var p = lid; p < num_params; p += CHUNK) { partials[base + p] = 0.0; }
  }
  for (var k = 0u; k < num_actions; k++) {
    let total = reduce_chunk(lid, db2_actor[k]);
    if (lid == 0u) { partials[base + off_actor_b2 + k] = total; }
  }
  for (var k = 0u; k < value_outputs; k++) {
    let total = reduce_chunk(lid, db2_critic[k]);
    if (lid == 0u) { partials[base + off_critic_b2 + k] = total; }
  }
  for (var i = 0u; i < 3u; i++) {
    let total = reduce_chunk(lid, loss_sums[i]);
    if (lid == 0u) { partials[base + num_params + i] = total; }
  }
}
