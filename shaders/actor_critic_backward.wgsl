// Backward pass of the actor-critic loss over the rollout's B = T*N rows, reduced per workgroup.
// Prepended: the env module, rng.wgsl, env_interface.wgsl, train_params.wgsl, network.wgsl.
// CPU reference: src/cpu/losses.ts, src/cpu/actor-critic.ts.
//
//   loss = -mean_w(Â log pi(a|s)) + vf_coef mean_w((V - R)^2) - ent_coef mean_w(H(pi(.|s)))
//   dz_k = (w/W) (-Â (1[k=a] - p_k) + ent_coef p_k (log p_k + H));   dV = (w/W) 2 vf_coef (V - R)
//   (W = sum of weights; Â normalized with the moments of advantages.wgsl when asked; for a Q critic
//   dV lands in the taken action's column.) Logits, values and their gradients are vec4s with A (V) live
//   lanes. Through each layer: dh = dz W2ᵀ ⊙ act'(pre), dW2 = hᵀ dz, db2 = Σ dz, dW1 = xᵀ dh, db1 = Σ dh,
//   with x the network's input (the raw observation normalized by the frozen statistics, when asked).
//   The hidden layer is recomputed, not stored.
//
// Buffers: packed weights (uniform, see train_params.wgsl); obs_buf, step_info, logits_buf, value_buf,
// targets (from the rollout and advantages.wgsl) read; norm_stats read;
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
@group(0) @binding(4) var<storage, read> logits_buf: array<f32>;
@group(0) @binding(5) var<storage, read> value_buf: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> targets: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> partials: array<f32>;
@group(0) @binding(8) var<storage, read> metrics: array<f32>;
@group(0) @binding(9) var<storage, read> norm_stats: array<vec4<f32>>;
@group(0) @binding(10) var<uniform> agents: array<AgentParams, MAX_AGENTS>;

const CHUNK: u32 = 64u;   // = the workgroup size of this entry point
override units_per_thread: u32 = 1u;   // 1, or 4 for H >= 256 (hidden_units_by4)
// 1: actor and critic share the hidden layer (off_critic_w1/b1 = the actor's): its gradient is the sum
// of both paths, written once.
override shared_trunk: u32 = 0u;
var<workgroup> sh_x: array<vec4<f32>, CHUNK * OBS_VEC4S>;   // the chunk's network inputs, row-major
// Per row, dLoss/dlogits (dz) and dLoss/dV or dQ per action (dv): lanes 0-1 of both in sh_grad_lo, lanes 2-3
// in sh_grad_hi, which only envs with more than two actions read (on lavapipe every workgroup-memory lane
// read by the row loop costs: CartPole's two-lane gradients stay one vec4 per row).
var<workgroup> sh_grad_lo: array<vec4<f32>, CHUNK>;   // (dz.x, dz.y, dv.x, dv.y)
var<workgroup> sh_grad_hi: array<vec4<f32>, CHUNK>;   // (dz.z, dz.w, dv.z, dv.w)
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

// Row r's (dz, dv) from workgroup memory; the high lanes only where some output has them.
fn row_grads(r: u32) -> mat2x4<f32> {
  let lo = sh_grad_lo[r];
  var hi = vec4<f32>(0.0);
  if (num_actions > 2u || value_outputs > 2u) { hi = sh_grad_hi[r]; }
  return mat2x4<f32>(vec4<f32>(lo.xy, hi.xy), vec4<f32>(lo.zw, hi.zw));
}

fn chunk_row(r: u32) -> Obs {
  var x: Obs;
  for (var k = 0u; k < OBS_VEC4S; k++) { x[k] = sh_x[r * OBS_VEC4S + k]; }
  return x;
}

fn unit_column(unit: u32) -> Obs {
  var w: Obs;
  for (var k = 0u; k < OBS_VEC4S; k++) { w[k] = packed[unit + k]; }
  return w;
}

fn obs_dot(x: Obs, w: Obs) -> f32 {
  var s = 0.0;
  for (var k = 0u; k < OBS_VEC4S; k++) { s += dot(x[k], w[k]); }
  return s;
}

// The first-layer gradients of unit j (both networks' when the trunk is shared), its output weights'.
fn write_unit(base: u32, j: u32, first: bool, dw1a: Obs, db1a: f32, dw1c: Obs, db1c: f32, dw2a: vec4<f32>, dw2c: vec4<f32>) {
  let h = hidden_size;
  for (var i = 0u; i < OBS_SIZE; i++) {
    let ga = dw1a[i / 4u][i % 4u];
    let gc = dw1c[i / 4u][i % 4u];
    if (shared_trunk == 1u) {
      accumulate(base + off_actor_w1 + i * h + j, ga + gc, first);
    } else {
      accumulate(base + off_actor_w1 + i * h + j, ga, first);
      accumulate(base + off_critic_w1 + i * h + j, gc, first);
    }
  }
  if (shared_trunk == 1u) {
    accumulate(base + off_actor_b1 + j, db1a + db1c, first);
  } else {
    accumulate(base + off_actor_b1 + j, db1a, first);
    accumulate(base + off_critic_b1 + j, db1c, first);
  }
  for (var a = 0u; a < num_actions; a++) { accumulate(base + off_actor_w2 + j * num_actions + a, dw2a[a], first); }
  for (var v = 0u; v < value_outputs; v++) { accumulate(base + off_critic_w2 + j * value_outputs + v, dw2c[v], first); }
}

// Thread `lid` owns hidden units lid, lid + 64, ...: one at a time over the chunk's rows.
fn hidden_units_by1(lid: u32, base: u32, first: bool) {
  for (var j = lid; j < hidden_size; j += CHUNK) {
    let ua = actor_unit(packed_base, j);
    let uc = critic_unit(packed_base, j);
    let w1a = unit_column(ua);
    let w1c = unit_column(uc);
    let b1a = packed[ua + OBS_VEC4S].x;
    let b1c = packed[uc + OBS_VEC4S].x;
    let w2a = output_row(ua + OBS_VEC4S, actor_rows);
    let w2c = output_row(uc + OBS_VEC4S, critic_rows);
    var dw1a: Obs;
    var dw1c: Obs;
    for (var k = 0u; k < OBS_VEC4S; k++) {
      dw1a[k] = vec4<f32>(0.0);
      dw1c[k] = vec4<f32>(0.0);
    }
    var db1a = 0.0;
    var db1c = 0.0;
    var dw2a = vec4<f32>(0.0);
    var dw2c = vec4<f32>(0.0);
    for (var r = 0u; r < CHUNK; r++) {
      let xr = chunk_row(r);
      let g = row_grads(r);
      let gz = g[0];
      let gv = g[1];
      let pre_a = b1a + obs_dot(xr, w1a);
      let ha = activate(pre_a);
      let dha = dot_outputs(gz, w2a, num_actions) * activate_grad(pre_a, ha);
      dw2a = axpy_outputs(dw2a, ha, gz, num_actions);
      for (var k = 0u; k < OBS_VEC4S; k++) { dw1a[k] += xr[k] * dha; }
      db1a += dha;
      let pre_c = b1c + obs_dot(xr, w1c);
      let hc = activate(pre_c);
      let dhc = dot_outputs(gv, w2c, value_outputs) * activate_grad(pre_c, hc);
      dw2c = axpy_outputs(dw2c, hc, gv, value_outputs);
      for (var k = 0u; k < OBS_VEC4S; k++) { dw1c[k] += xr[k] * dhc; }
      db1c += dhc;
    }
    write_unit(base, j, first, dw1a, db1a, dw1c, db1c, dw2a, dw2c);
  }
}

fn unit_pack(j: u32, ok: bool, offset: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), packed[actor_unit(packed_base, j) + offset], ok);
}

// Columns: the four units j; `offset` picks the vec4 within a unit's block.
fn units4(j: vec4<u32>, ok: vec4<bool>, offset: u32) -> mat4x4<f32> {
  return mat4x4<f32>(unit_pack(j.x, ok.x, offset), unit_pack(j.y, ok.y, offset), unit_pack(j.z, ok.z, offset), unit_pack(j.w, ok.w, offset));
}

// Thread `lid` owns units lid, lid + 64, lid + 128, lid + 192 of each block of 256, four at a time:
// each row read from workgroup memory serves four units (for H >= 256; the reads bound the
// one-unit loop on lavapipe). Columns of the mat4x4s are units.
fn hidden_units_by4(lid: u32, base: u32, first: bool) {
  let h = hidden_size;
  let critic_offset = OBS_VEC4S + actor_rows;
  for (var block = 0u; block * 256u < h; block++) {
    let j = vec4<u32>(block * 256u + lid) + vec4<u32>(0u, 64u, 128u, 192u);
    let ok = j < vec4<u32>(h);
    var w1a: Obs4;
    var w1c: Obs4;
    var dw1a: Obs4;
    var dw1c: Obs4;
    for (var k = 0u; k < OBS_VEC4S; k++) {
      w1a[k] = units4(j, ok, k);
      w1c[k] = units4(j, ok, critic_offset + k);
      dw1a[k] = mat4x4<f32>();
      dw1c[k] = mat4x4<f32>();
    }
    // Rows of the transposes: (b1, w2[:, 0], w2[:, 1], w2[:, 2]) of the four units; w2[:, 3] apart.
    let rta = transpose(units4(j, ok, OBS_VEC4S));
    let rtc = transpose(units4(j, ok, critic_offset + OBS_VEC4S));
    var w2a3 = vec4<f32>(0.0);
    var w2c3 = vec4<f32>(0.0);
    if (actor_rows == 2u) { w2a3 = transpose(units4(j, ok, OBS_VEC4S + 1u))[0]; }
    if (critic_rows == 2u) { w2c3 = transpose(units4(j, ok, critic_offset + OBS_VEC4S + 1u))[0]; }
    var db1a = vec4<f32>(0.0);
    var db1c = vec4<f32>(0.0);
    var dw2a = mat4x4<f32>();   // column o: d w2[:, o] of the four units
    var dw2c = mat4x4<f32>();
    for (var r = 0u; r < CHUNK; r++) {
      let g = row_grads(r);
      let gz = g[0];
      let gv = g[1];
      var pre_a = rta[0];
      var pre_c = rtc[0];
      for (var k = 0u; k < OBS_VEC4S; k++) {
        let xk = sh_x[r * OBS_VEC4S + k];
        pre_a += xk * w1a[k];
        pre_c += xk * w1c[k];
      }
      let ha = activate4(pre_a);
      var back_a = gz.x * rta[1];
      if (num_actions > 1u) { back_a += gz.y * rta[2]; }
      if (num_actions > 2u) { back_a += gz.z * rta[3]; }
      if (num_actions > 3u) { back_a += gz.w * w2a3; }
      let dha = back_a * activate_grad4(pre_a, ha);
      dw2a[0] += ha * gz.x;
      if (num_actions > 1u) { dw2a[1] += ha * gz.y; }
      if (num_actions > 2u) { dw2a[2] += ha * gz.z; }
      if (num_actions > 3u) { dw2a[3] += ha * gz.w; }
      db1a += dha;
      let hc = activate4(pre_c);
      var back_c = gv.x * rtc[1];
      if (value_outputs > 1u) { back_c += gv.y * rtc[2]; }
      if (value_outputs > 2u) { back_c += gv.z * rtc[3]; }
      if (value_outputs > 3u) { back_c += gv.w * w2c3; }
      let dhc = back_c * activate_grad4(pre_c, hc);
      dw2c[0] += hc * gv.x;
      if (value_outputs > 1u) { dw2c[1] += hc * gv.y; }
      if (value_outputs > 2u) { dw2c[2] += hc * gv.z; }
      if (value_outputs > 3u) { dw2c[3] += hc * gv.w; }
      db1c += dhc;
      for (var k = 0u; k < OBS_VEC4S; k++) {
        let xk = sh_x[r * OBS_VEC4S + k];
        dw1a[k] += mat4x4<f32>(xk * dha.x, xk * dha.y, xk * dha.z, xk * dha.w);
        dw1c[k] += mat4x4<f32>(xk * dhc.x, xk * dhc.y, xk * dhc.z, xk * dhc.w);
      }
    }
    let t2a = transpose(dw2a);   // row u: d w2[j_u, :]
    let t2c = transpose(dw2c);
    for (var u = 0u; u < 4u; u++) {
      if (ok[u]) {
        var ga: Obs;
        var gc: Obs;
        for (var k = 0u; k < OBS_VEC4S; k++) {
          ga[k] = dw1a[k][u];
          gc[k] = dw1c[k][u];
        }
        write_unit(base, j[u], first, ga, db1a[u], gc, db1c[u], t2a[u], t2c[u]);
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
  let hp = agents[agent];
  var loss_sums = vec3<f32>(0.0);   // weighted sums of policy loss, value loss, entropy
  var db2a = vec4<f32>(0.0);        // actor.b2 gradient (A lanes)
  var db2c = vec4<f32>(0.0);        // critic.b2 gradient (V lanes)

  for (var chunk = wid.x; chunk < num_chunks; chunk += train.num_groups) {
    let first = chunk == wid.x;
    // Phase 1: one row per thread, its input and output gradients into workgroup memory.
    let local_row = chunk * CHUNK + lid;
    let row = first_row + local_row;
    var x: Obs;
    for (var k = 0u; k < OBS_VEC4S; k++) { x[k] = vec4<f32>(0.0); }
    var dz = vec4<f32>(0.0);
    var dv = vec4<f32>(0.0);
    if (local_row < rows) {
      let tg = targets[row];
      if (tg.z > 0.0) {
        var raw: Obs;
        for (var k = 0u; k < OBS_VEC4S; k++) { raw[k] = obs_buf[row * OBS_VEC4S + k]; }
        x = normalize_obs_of(agent, raw);
        let action = step_info[row] & 0xffu;
        var adv = tg.x;
        if (hp.normalize_advantage == 1u) { adv = (adv - adv_mean) * adv_scale; }
        var z = vec4<f32>(0.0);
        for (var a = 0u; a < num_actions; a++) { z[a] = logits_buf[row * num_actions + a]; }
        let logp = log_softmax(z);
        let p = exp(logp);
        let entropy = -dot_outputs(p, logp, num_actions);
        let onehot = select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(0u, 1u, 2u, 3u) == vec4<u32>(action));
        let scale = tg.z * inv_weight;
        dz = scale * (-adv * (onehot - p) + hp.ent_coef * p * (logp + entropy));
        let err = value_buf[row].x - tg.y;
        let dvalue = scale * 2.0 * hp.vf_coef * err;
        dv = select(vec4<f32>(dvalue, 0.0, 0.0, 0.0), onehot * dvalue, value_outputs > 1u);
        loss_sums += tg.z * vec3<f32>(-adv * logp[action], err * err, entropy);
      }
    }
    for (var k = 0u; k < OBS_VEC4S; k++) { sh_x[lid * OBS_VEC4S + k] = x[k]; }
    sh_grad_lo[lid] = vec4<f32>(dz.xy, dv.xy);
    sh_grad_hi[lid] = vec4<f32>(dz.zw, dv.zw);
    db2a += dz;
    db2c += dv;
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
  let bias_a = reduce_chunk(lid, db2a);
  let bias_c = reduce_chunk(lid, db2c);
  let losses = reduce_chunk(lid, vec4<f32>(loss_sums, 0.0));
  if (lid == 0u) {
    for (var a = 0u; a < num_actions; a++) { partials[base + off_actor_b2 + a] = bias_a[a]; }
    for (var v = 0u; v < value_outputs; v++) { partials[base + off_critic_b2 + v] = bias_c[v]; }
    partials[base + num_params] = losses.x;
    partials[base + num_params + 1u] = losses.y;
    partials[base + num_params + 2u] = losses.z;
  }
}
