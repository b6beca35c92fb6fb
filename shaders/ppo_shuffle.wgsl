// PPO's minibatch shuffle: a seeded bijection of the batch's rows [0, batch) per (agent seed, update,
// epoch), computed per index, so that the thread of minibatch row j finds its rollout row
// ppo_permute(seed, update, epoch, batch, j) with no sort, no atomics and no host round trip (CleanRL
// shuffles b_inds with numpy once per epoch; any fixed seeded permutation serves the same purpose).
// Prepended: shaders/rng.wgsl. CPU reference (bit for bit, tested in test/kernels/ppo-shuffle.test.ts):
// ppoPermute in src/cpu/ppo.ts.
//
//   bits = max(2, ceil(log2(batch))) rounded up to even;  h = bits/2;  mask = 2^h − 1   (h ≤ 16)
//   one pass, on x in [0, 2^bits): L = x >> h, R = x & mask, then for round r in 0..3
//     F = rng_u32(seed, RNG_STREAM_PPO_SHUFFLE + 4·epoch + r, R, update) & mask;  (L, R) = (R, L ^ F)
//   and x = (L << h) | R: a 4-round Feistel network, a permutation of [0, 2^bits) whatever F is.
//   Cycle-walking: from x = i (< batch), pass again until x < batch. The walk stays on i's cycle of the
//   permutation, which re-enters [0, batch), and maps [0, batch) onto itself one to one; 2^bits < 4·batch
//   (for batch ≥ 2), so it takes fewer than 4 passes on average.
// batch ≥ 1 (batch = 0 has no rows to ask about).

const RNG_STREAM_PPO_SHUFFLE: u32 = 0x1000u; // + 4·epoch + round; 0x1000..0x1F9F for updateEpochs <= 1000

fn ppo_permute(seed: u32, update: u32, epoch: u32, batch: u32, i: u32) -> u32 {
  let ceil_log2 = 32u - countLeadingZeros(batch - 1u);
  let bits = max(2u, ceil_log2 + (ceil_log2 & 1u));
  let h = bits / 2u;
  let mask = (1u << h) - 1u;
  let stream = RNG_STREAM_PPO_SHUFFLE + 4u * epoch;
  var x = i;
  loop {
    var l = x >> h;
    var r = x & mask;
    for (var k = 0u; k < 4u; k++) {
      let f = rng_u32(vec4<u32>(seed, stream + k, r, update)) & mask;
      let next_r = l ^ f;
      l = r;
      r = next_r;
    }
    x = (l << h) | r;
    if (x < batch) { break; }
  }
  return x;
}
