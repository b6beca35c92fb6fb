// Acrobot-v1 (Gymnasium 1.4's AcrobotEnv) as an env module: the interface is shaders/env_interface.wgsl.
// Book dynamics (`_dsdt`), one RK4 step over [0, dt] (k1..k4, y0 + dt/6·(k1 + 2k2 + 2k3 + k4)), then
// Gymnasium's `wrap` of θ1, θ2 into [−π, π] (its two loops, capped) and `bound` of θ̇1, θ̇2 — all in f32,
// in Gymnasium's evaluation order. Constants are `override`s set from the descriptor (src/envs/acrobot.ts,
// which also holds the f64/f32 CPU reference).
// Actions 0, 1, 2: torque avail_torque_0/1/2 (−1, 0, +1). Reward −1, or 0 on the terminating step;
// terminated when −cos θ1 − cos(θ2 + θ1) > 1 (strict, on the new state). Observation (cos θ1, sin θ1,
// cos θ2, sin θ2, θ̇1, θ̇2). Reset U(−0.1, 0.1)^4.

const OBS_SIZE: u32 = 6u;

struct EnvState {
  theta1: f32,
  theta2: f32,
  dtheta1: f32,
  dtheta2: f32,
}

alias EnvAction = u32;   // 0, 1, 2: torque −1, 0, +1

override link_length_1: f32 = 1.0;
override link_mass_1: f32 = 1.0;
override link_mass_2: f32 = 1.0;
override link_com_pos_1: f32 = 0.5;
override link_com_pos_2: f32 = 0.5;
override link_moi: f32 = 1.0;
override gravity: f32 = 9.8;
override dt: f32 = 0.2;
override max_vel_1: f32 = 12.566370614359172;
override max_vel_2: f32 = 28.274333882308138;
override avail_torque_0: f32 = -1.0;
override avail_torque_1: f32 = 0.0;
override avail_torque_2: f32 = 1.0;

const ACROBOT_PI: f32 = 3.1415927410125732;   // f32(π), written exactly
// Gymnasium's wrap loops without limit; inside the observation box one step needs at most 5 turns, so the
// cap (WRAP_MAX_TURNS in src/envs/acrobot.ts) only stops a state injected far outside it from hanging.
const ACROBOT_WRAP_MAX_TURNS: u32 = 64u;

// `_dsdt` at y = (θ1, θ2, θ̇1, θ̇2) under torque a: (θ̇1, θ̇2, θ̈1, θ̈2). Python evaluates `*` and `+` left
// to right; `x**2` is x·x.
fn acrobot_dsdt(y: vec4<f32>, a: f32) -> vec4<f32> {
  let m1 = link_mass_1;
  let m2 = link_mass_2;
  let l1 = link_length_1;
  let lc1 = link_com_pos_1;
  let lc2 = link_com_pos_2;
  let i1 = link_moi;
  let i2 = link_moi;
  let theta1 = y.x;
  let theta2 = y.y;
  let dtheta1 = y.z;
  let dtheta2 = y.w;
  let cos_theta2 = cos(theta2);
  let sin_theta2 = sin(theta2);
  let d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * cos_theta2) + i1 + i2;
  let d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos_theta2) + i2;
  let phi2 = m2 * lc2 * gravity * cos(theta1 + theta2 - ACROBOT_PI / 2.0);
  let phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin_theta2 - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin_theta2 +
             (m1 * lc1 + m2 * l1) * gravity * cos(theta1 - ACROBOT_PI / 2.0) + phi2;
  let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin_theta2 - phi2) /
                 (m2 * (lc2 * lc2) + i2 - (d2 * d2) / d1);
  let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  return vec4<f32>(dtheta1, dtheta2, ddtheta1, ddtheta2);
}

// Gymnasium's wrap: `while x > M: x -= M - m`, then `while x < m: x += M - m`.
fn acrobot_wrap(x: f32, m: f32, big_m: f32) -> f32 {
  let diff = big_m - m;
  var v = x;
  for (var i = 0u; i < ACROBOT_WRAP_MAX_TURNS && v > big_m; i++) { v = v - diff; }
  for (var i = 0u; i < ACROBOT_WRAP_MAX_TURNS && v < m; i++) { v = v + diff; }
  return v;
}

// Gymnasium's bound, Python's min(max(x, m), M): comparisons, not WGSL's min/max, so a NaN stays NaN.
fn acrobot_bound(x: f32, m: f32, big_m: f32) -> f32 {
  let lo = select(x, m, m > x);
  return select(lo, big_m, big_m < lo);
}

fn env_reset(seed: u32, env: u32, episode: u32) -> EnvState {
  // (u - 0.5) is exact and the product rounds once: no fused multiply-add can change the bits.
  return EnvState((reset_uniform(seed, env, episode, 0u) - 0.5) * 0.2, (reset_uniform(seed, env, episode, 1u) - 0.5) * 0.2,
                  (reset_uniform(seed, env, episode, 2u) - 0.5) * 0.2, (reset_uniform(seed, env, episode, 3u) - 0.5) * 0.2);
}

fn env_step(s: EnvState, action: EnvAction) -> EnvStep {
  let a = select(select(avail_torque_2, avail_torque_1, action == 1u), avail_torque_0, action == 0u);
  // rk4(_dsdt, y0, [0, dt]): a single step. The torque rides along with derivative 0, so it stays a.
  let y0 = vec4<f32>(s.theta1, s.theta2, s.dtheta1, s.dtheta2);
  let dt2 = dt / 2.0;
  let k1 = acrobot_dsdt(y0, a);
  let k2 = acrobot_dsdt(y0 + dt2 * k1, a);
  let k3 = acrobot_dsdt(y0 + dt2 * k2, a);
  let k4 = acrobot_dsdt(y0 + dt * k3, a);
  let y1 = y0 + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
  let next = EnvState(acrobot_wrap(y1.x, -ACROBOT_PI, ACROBOT_PI), acrobot_wrap(y1.y, -ACROBOT_PI, ACROBOT_PI),
                      acrobot_bound(y1.z, -max_vel_1, max_vel_1), acrobot_bound(y1.w, -max_vel_2, max_vel_2));
  let terminated = -cos(next.theta1) - cos(next.theta2 + next.theta1) > 1.0;
  // −1, or 0 when terminated: written as 1 − 1 because lavapipe turned select(-1.0, 0.0, t) into a −0.
  return EnvStep(next, f32(terminated) - 1.0, terminated);
}

fn env_observe(s: EnvState) -> array<f32, OBS_SIZE> {
  return array<f32, OBS_SIZE>(cos(s.theta1), sin(s.theta1), cos(s.theta2), sin(s.theta2), s.dtheta1, s.dtheta2);
}

fn env_random_action(seed: u32, env: u32, step: u32) -> EnvAction {
  return random_discrete(seed, env, step, 3u);
}
