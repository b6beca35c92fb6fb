// Pendulum-v1 (Gymnasium's PendulumEnv, g = 10) as an env module: the interface is shaders/env_interface.wgsl.
// Gymnasium's order of operations in f32; constants are `override`s set from the descriptor
// (src/envs/pendulum.ts, which also holds the f64/f32 CPU reference).
//   u = clip(a, ±max_torque);  cost = angle_normalize(θ)² + 0.1·θ̇² + 0.001·u²  (of the state before the step)
//   θ̇' = clip(θ̇ + (3g/(2l)·sin θ + 3/(m l²)·u)·dt, ±max_speed);  θ' = θ + θ̇'·dt  (θ̇ clipped before θ moves)
// Reward −cost; never terminated (the time limit, 200 steps, truncates); observation (cos θ, sin θ, θ̇).
// θ is stored unwrapped, as Gymnasium does (it drifts by up to 80 rad an episode); angle_normalize reduces it
// accurately, and sin/cos take the reduced angle: WGSL's f32 sin/cos are only specified on [−π, π].
// Reset θ U(−π, π), θ̇ U(−1, 1); a random action is U(−max_torque, max_torque).

const OBS_SIZE: u32 = 3u;

struct EnvState {
  theta: f32,
  theta_dot: f32,
}

alias EnvAction = f32;   // the raw torque: clipped here, also for the cost

override max_speed: f32 = 8.0;
override max_torque: f32 = 2.0;
override dt: f32 = 0.05;
override gravity: f32 = 10.0;     // Gymnasium's g
override mass: f32 = 1.0;         // m
override rod_length: f32 = 1.0;   // l

const PI_F32: f32 = 3.1415927410125732;             // π rounded to nearest (above π)
const TWO_PI_DOWN: f32 = 6.283185005187988;         // 2π rounded down: reset θ stays in [−π, π)
const INV_TWO_PI: f32 = 0.15915493667125702;
// 2π in four pieces of at most 12 significant bits at fixed positions (2^2 … 2^-45): k·piece is exact for
// |k| < 4096, so a fused multiply-add cannot change any bit and the CPU reference reproduces them.
const TWO_PI_A: f32 = 6.28125;
const TWO_PI_B: f32 = 0.0019350051879882812;
const TWO_PI_C: f32 = 3.019813448190689e-7;
const TWO_PI_D: f32 = 1.0231815394945443e-11;

// x − k·2π with an error of at most an ulp of the result (x − k·A is exact by Sterbenz, − k·B too).
fn reduce_two_pi(x: f32, k: f32) -> f32 {
  return (((x - k * TWO_PI_A) - k * TWO_PI_B) - k * TWO_PI_C) - k * TWO_PI_D;
}

// Gymnasium's ((x + π) mod 2π) − π with Python's floor-mod: the result lies in [−π, π). x + π in f32 would
// lose θ's low bits and an f32 2π is off by 1.7e-7 a turn, so: reduce by the nearest multiple of 2π, then
// fold what rounded to ±π_f32 or beyond (both lie outside [−π, π]: θ = ±π_f32 comes out as ∓(π − 8.7e-8),
// as Gymnasium has it). Within an ulp of ±π either sign may come out; the cost squares it.
fn angle_normalize(x: f32) -> f32 {
  let k = round(x * INV_TWO_PI);
  let r = reduce_two_pi(x, k);
  if (r >= PI_F32) { return reduce_two_pi(x, k + 1.0); }
  if (r <= -PI_F32) { return reduce_two_pi(x, k - 1.0); }
  return r;
}

fn env_reset(seed: u32, env: u32, episode: u32) -> EnvState {
  // (u − 0.5) is exact and each product rounds once: the CPU reference has the same bits.
  return EnvState((reset_uniform(seed, env, episode, 0u) - 0.5) * TWO_PI_DOWN, (reset_uniform(seed, env, episode, 1u) - 0.5) * 2.0);
}

fn env_step(s: EnvState, action: EnvAction) -> EnvStep {
  let u = clamp(action, -max_torque, max_torque);
  let th = angle_normalize(s.theta);
  let costs = th * th + 0.1 * (s.theta_dot * s.theta_dot) + 0.001 * (u * u);
  let gravity_coef = 3.0 * gravity / (2.0 * rod_length);
  let torque_coef = 3.0 / (mass * (rod_length * rod_length));
  let theta_dot = clamp(s.theta_dot + (gravity_coef * sin(th) + torque_coef * u) * dt, -max_speed, max_speed);
  return EnvStep(EnvState(s.theta + theta_dot * dt, theta_dot), -costs, false);
}

fn env_observe(s: EnvState) -> array<f32, OBS_SIZE> {
  let th = angle_normalize(s.theta);
  return array<f32, OBS_SIZE>(cos(th), sin(th), s.theta_dot);
}

fn env_random_action(seed: u32, env: u32, step: u32) -> EnvAction {
  return -max_torque + (2.0 * max_torque) * random_uniform(seed, env, step, 0u);
}

// A Box action from the trainer's vec4 of action lanes (D = 1: the torque in lane 0).
fn env_box_action(a: vec4<f32>) -> EnvAction {
  return a.x;
}
