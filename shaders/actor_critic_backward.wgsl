// Backward pass of the actor-critic loss over the rollout's B = T*N rows, reduced per workgroup.
// Prepended: train_params.wgsl, network.wgsl. CPU reference: src/cpu/losses.ts, src/cpu/actor-critic.ts.
//
//   loss = -mean_w(Â log pi(a|s)) + vf_coef mean_w((V - R)^2) - ent_coef mean_w(H(pi(.|s)))
//   dz_k = (w/W) (-Â (1[k=a] - p_k) + ent_coef p_k (log p_k + H));   dV = (w/W) 2 vf_coef (V - R)
//   (W = sum of weights; Â normalized with the moments of advantages.wgsl when asked; for a Q critic
//   dV lands in the taken action's column.) Two actions: logits and their gradients are vec2. Through each layer: dh = dz W2ᵀ ⊙ act'(pre),
//   dW2 = hᵀ dz, db2 = Σ dz, dW1 = xᵀ dh, db1 = Σ dh. The hidden layer is recomputed, not stored.
//
// Buffers: packed weights (uniform, see network.wgsl); obs_buf, step_info, logits_buf, value_buf, targets
// (from the rollout and advantages.wgsl) read;
// partials [G, num_groups, P + 4] overwritten: row (a, w) = workgroup w's sum of agent a's gradients over
// its rows, then the weighted sums of the policy loss, value loss and entropy. Dispatched as
// (num_groups, G): workgroup_id.y is the agent. optimizer.wgsl reduces the rows in a
// fixed order, so the result is bit-repeatable (no atomics).
// Workgroup w handles the 64-row chunks w, w + num_groups, ...; thread `lid` owns hidden units
// lid, lid + 64, ... of both networks. Every `var` has an explicit initializer: Dawn on lavapipe does
// not re-zero one declared without it on each loop iteration, as WGSL requires.

@group(0) @binding(1) var<uniform> packed: array<vec4<f32>, PACKED_VEC4S>;
@group(0) @binding(2) var<storage, read> obs_buf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> step_info: array<u32>;
@group(0) @binding(4) var<storage, read> logits_buf: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read> value_buf: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> targets: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;
@group(0) @binding(8) var<storage, read> metrics: array<f32>;

const CHUNK: u32 = 64u;   // = the workgroup size of this entry point
override units_per_thread: u32 = 1u;   // 1, or 4 for H >= 256 (hidden_units_by4)
// 1: actor and critic share the hidden layer (off_critic_w1/b1 = the actor's): its gradient is the sum
// of both paths, written once.
override shared_trunk: u32 = 0u;
var<workgroup> sh_x: array<vec4<f32>, CHUNK>;
var<workgroup> sh_dz: array<vec2<f32>, CHUNK>;   // dLoss/dlogits per row
var<workgroup> sh_dv: array<vec2<f32>, CHUNK>;   // dLoss/dV (or dQ per action) per row
var<workgroup> sh_red: array<vec4<f32>, CHUNK>;

fn reduce_chunk(lid: u32, v: vec4<f32>) -> vec4<f32> {
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

// Thread `lid` owns hidden units lid, lid + 64, ...: one at a time over the chunk's rows.
fn hidden_units_by1(lid: u32, base: u32, first: bool) {
  let h = hidden_size;
  for (var j = lid; j < h; j += CHUNK) {
    let w1a = packed[packed_base + 4u * j];
    let b1a = packed[packed_base + 4u * j + 1u].x;
    let w2a = packed[packed_base + 4u * j + 1u].yz;
    let w1c = packed[packed_base + 4u * j + 2u];
    let b1c = packed[packed_base + 4u * j + 3u].x;
    let w2c = packed[packed_base + 4u * j + 3u].yz;
    var dw1a = vec4<f32>(0.0);
    var dw1c = vec4<f32>(0.0);
    var db1a = 0.0;
    var db1c = 0.0;
    var dw2a = vec2<f32>(0.0);
    var dw2c = vec2<f32>(0.0);
    for (var r = 0u; r < CHUNK; r++) {
      let xr = sh_x[r];
      let gz = sh_dz[r];
      let gv = sh_dv[r];
      let pre_a = b1a + dot(xr, w1a);
      let ha = activate(pre_a);
      let dha = dot(gz, w2a) * activate_grad(pre_a, ha);
      dw2a += ha * gz;
      dw1a += xr * dha;
      db1a += dha;
      let pre_c = b1c + dot(xr, w1c);
      let hc = activate(pre_c);
      let dhc = dot(gv, w2c) * activate_grad(pre_c, hc);
      dw2c += hc * gv;
      dw1c += xr * dhc;
      db1c += dhc;
    }
    if (shared_trunk == 1u) {
      for (var i = 0u; i < OBS_SIZE; i++) { accumulate(base + off_actor_w1 + i * h + j, dw1a[i] + dw1c[i], first); }
      accumulate(base + off_actor_b1 + j, db1a + db1c, first);
    } else {
      for (var i = 0u; i < OBS_SIZE; i++) {
        accumulate(base + off_actor_w1 + i * h + j, dw1a[i], first);
        accumulate(base + off_critic_w1 + i * h + j, dw1c[i], first);
      }
      accumulate(base + off_actor_b1 + j, db1a, first);
      accumulate(base + off_critic_b1 + j, db1c, first);
    }
    accumulate(base + off_actor_w2 + 2u * j, dw2a.x, first);
    accumulate(base + off_actor_w2 + 2u * j + 1u, dw2a.y, first);
    accumulate(base + off_critic_w2 + j * value_outputs, dw2c.x, first);
    if (value_outputs == 2u) { accumulate(base + off_critic_w2 + 2u * j + 1u, dw2c.y, first); }
  }
}

fn unit_pack(j: u32, ok: bool, k: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), packed[packed_base + 4u * j + k], ok);
}

// Thread `lid` owns units lid, lid + 64, lid + 128, lid + 192 of each block of 256, four at a time:
// each row read from workgroup memory serves four units (for H >= 256; the reads bound the
// one-unit loop on lavapipe). Columns of the mat4x4s are units.
fn hidden_units_by4(lid: u32, base: u32, first: bool) {
  let h = hidden_size;
  for (var block = 0u; block * 256u < h; block++) {
    let j = vec4<u32>(block * 256u + lid) + vec4<u32>(0u, 64u, 128u, 192u);
    let ok = j < vec4<u32>(h);
    let w1a = mat4x4<f32>(unit_pack(j.x, ok.x, 0u), unit_pack(j.y, ok.y, 0u), unit_pack(j.z, ok.z, 0u), unit_pack(j.w, ok.w, 0u));
    let ra = mat4x4<f32>(unit_pack(j.x, ok.x, 1u), unit_pack(j.y, ok.y, 1u), unit_pack(j.z, ok.z, 1u), unit_pack(j.w, ok.w, 1u));
    let w1c = mat4x4<f32>(unit_pack(j.x, ok.x, 2u), unit_pack(j.y, ok.y, 2u), unit_pack(j.z, ok.z, 2u), unit_pack(j.w, ok.w, 2u));
    let rc = mat4x4<f32>(unit_pack(j.x, ok.x, 3u), unit_pack(j.y, ok.y, 3u), unit_pack(j.z, ok.z, 3u), unit_pack(j.w, ok.w, 3u));
    // (b1, w2[:, 0], w2[:, 1]) of the four units, from the packed (b1, w2_0, w2_1, 0) rows.
    let rta = transpose(ra);
    let rtc = transpose(rc);
    var dw1a = mat4x4<f32>();
    var dw1c = mat4x4<f32>();
    var db1a = vec4<f32>(0.0);
    var db1c = vec4<f32>(0.0);
    var dw2a0 = vec4<f32>(0.0);
    var dw2a1 = vec4<f32>(0.0);
    var dw2c0 = vec4<f32>(0.0);
    var dw2c1 = vec4<f32>(0.0);
    for (var r = 0u; r < CHUNK; r++) {
      let xr = sh_x[r];
      let gz = sh_dz[r];
      let gv = sh_dv[r];
      let pre_a = rta[0] + xr * w1a;
      let ha = activate4(pre_a);
      let dha = (gz.x * rta[1] + gz.y * rta[2]) * activate_grad4(pre_a, ha);
      dw2a0 += ha * gz.x;
      dw2a1 += ha * gz.y;
      dw1a += mat4x4<f32>(xr * dha.x, xr * dha.y, xr * dha.z, xr * dha.w);
      db1a += dha;
      let pre_c = rtc[0] + xr * w1c;
      let hc = activate4(pre_c);
      let dhc = (gv.x * rtc[1] + gv.y * rtc[2]) * activate_grad4(pre_c, hc);
      dw2c0 += hc * gv.x;
      dw2c1 += hc * gv.y;
      dw1c += mat4x4<f32>(xr * dhc.x, xr * dhc.y, xr * dhc.z, xr * dhc.w);
      db1c += dhc;
    }
    for (var u = 0u; u < 4u; u++) {
      if (ok[u]) {
        let ju = j[u];
        if (shared_trunk == 1u) {
          for (var i = 0u; i < OBS_SIZE; i++) { accumulate(base + off_actor_w1 + i * h + ju, dw1a[u][i] + dw1c[u][i], first); }
          accumulate(base + off_actor_b1 + ju, db1a[u] + db1c[u], first);
        } else {
          for (var i = 0u; i < OBS_SIZE; i++) {
            accumulate(base + off_actor_w1 + i * h + ju, dw1a[u][i], first);
            accumulate(base + off_critic_w1 + i * h + ju, dw1c[u][i], first);
          }
          accumulate(base + off_actor_b1 + ju, db1a[u], first);
          accumulate(base + off_critic_b1 + ju, db1c[u], first);
        }
        accumulate(base + off_actor_w2 + 2u * ju, dw2a0[u], first);
        accumulate(base + off_actor_w2 + 2u * ju + 1u, dw2a1[u], first);
        accumulate(base + off_critic_w2 + ju * value_outputs, dw2c0[u], first);
        if (value_outputs == 2u) { accumulate(base + off_critic_w2 + 2u * ju + 1u, dw2c1[u], first); }
      }
    }
  }
}

@compute @workgroup_size(64)
fn actorCriticBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let agent = wid.y;
  packed_base = agent * packed_stride();
  let rows = rows_per_agent();
  let first_row = agent * rows;
  let num_chunks = (rows + CHUNK - 1u) / CHUNK;
  let base = (agent * train.num_groups + wid.x) * (num_params + 4u);
  let inv_weight = 1.0 / max(metrics[metric(agent, M_WEIGHT_SUM)], 1.0);
  let adv_mean = metrics[metric(agent, M_ADV_MEAN)];
  let adv_scale = 1.0 / (metrics[metric(agent, M_ADV_STD)] + 1e-8);
  let h = hidden_size;
  var loss_sums = vec3<f32>(0.0);   // weighted sums of policy loss, value loss, entropy
  var db2 = vec4<f32>(0.0);         // (actor.b2, critic.b2) gradients

  for (var chunk = wid.x; chunk < num_chunks; chunk += train.num_groups) {
    let first = chunk == wid.x;
    // Phase 1: one row per thread, its output gradients into workgroup memory.
    let local_row = chunk * CHUNK + lid;
    let row = first_row + local_row;
    var x = vec4<f32>(0.0);
    var dz = vec2<f32>(0.0);
    var dv = vec2<f32>(0.0);
    if (local_row < rows) {
      let tg = targets[row];
      if (tg.z > 0.0) {
        x = obs_buf[row];
        let action = step_info[row] & 0xffu;
        var adv = tg.x;
        if (train.normalize_advantage == 1u) { adv = (adv - adv_mean) * adv_scale; }
        let logp = log_softmax(logits_buf[row]);
        let p = exp(logp);
        let entropy = -dot(p, logp);
        let onehot = select(vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0), action == 1u);
        let scale = tg.z * inv_weight;
        dz = scale * (-adv * (onehot - p) + train.ent_coef * p * (logp + entropy));
        let err = value_buf[row].x - tg.y;
        let dvalue = scale * 2.0 * train.vf_coef * err;
        dv = select(vec2<f32>(dvalue, 0.0), onehot * dvalue, value_outputs == 2u);
        loss_sums += tg.z * vec3<f32>(-adv * dot(onehot, logp), err * err, entropy);
      }
    }
    sh_x[lid] = x;
    sh_dz[lid] = dz;
    sh_dv[lid] = dv;
    db2 += vec4<f32>(dz, dv);
    workgroupBarrier();

    // Phase 2: each thread runs its hidden units over the chunk's rows.
    if (units_per_thread == 4u) { hidden_units_by4(lid, base, first); } else { hidden_units_by1(lid, base, first); }
    workgroupBarrier();
  }

  // Output biases and loss terms: sums over this workgroup's threads. A workgroup without chunks
  // (more groups than chunks) still writes its row, so the reduction reads no stale values.
  if (wid.x >= num_chunks) {
    for (var p = lid; p < num_params; p += CHUNK) { partials[base + p] = 0.0; }
  }
  let biases = reduce_chunk(lid, db2);
  let losses = reduce_chunk(lid, vec4<f32>(loss_sums, 0.0));
  if (lid == 0u) {
    partials[base + off_actor_b2] = biases.x;
    partials[base + off_actor_b2 + 1u] = biases.y;
    partials[base + off_critic_b2] = biases.z;
    if (value_outputs == 2u) { partials[base + off_critic_b2 + 1u] = biases.w; }
    partials[base + num_params] = losses.x;
    partials[base + num_params + 1u] = losses.y;
    partials[base + num_params + 2u] = losses.z;
  }
}
