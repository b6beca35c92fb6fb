// MountainCarContinuous-v0 (Gymnasium's Continuous_MountainCarEnv) as an env module: the interface is
// shaders/env_interface.wgsl. Dynamics in Gymnasium's exact evaluation order, in f32; constants are
// `override`s set from the descriptor (src/envs/mountain_car.ts, which also holds the CPU reference):
//   force = min(max(action, min_action), max_action);
//   velocity += force·power - gravity·cos(3·position), clipped to ±max_speed;
//   position += velocity, clipped to [min_position, max_position]; a car at the LEFT wall moving left stops
//   (gymnax zeroes the velocity at the goal instead: Gymnasium is followed here).
// Terminated when position >= goal_position and velocity >= goal_velocity (on the new state). Reward:
// 100 on the terminating step, minus 0.1·a² of the RAW action a on every step (an action outside the
// Box is clipped for the force only). Reset: position U(-0.6, -0.4), velocity 0.
// Gymnasium keeps this env's state as float32 after every step, and NumPy 2 then evaluates most of the
// step in float32 as well (the reference's comments say where): an f32 kernel is close to Gymnasium's own
// trajectories, goal test included (position >= float32(0.45)).

const OBS_SIZE: u32 = 2u;

struct EnvState {
  position: f32,
  velocity: f32,
}

alias EnvAction = f32;   // the raw force command; the Box is [min_action, max_action]

override min_action: f32 = -1.0;
override max_action: f32 = 1.0;
override min_position: f32 = -1.2;
override max_position: f32 = 0.6;
override max_speed: f32 = 0.07;
override goal_position: f32 = 0.45;
override goal_velocity: f32 = 0.0;
override power: f32 = 0.0015;
override gravity: f32 = 0.0025;   // Gymnasium's literal 0.0025 in step(): the hill's pull

const GOAL_REWARD: f32 = 100.0;
const ACTION_COST: f32 = 0.1;

fn env_reset(seed: u32, env: u32, episode: u32) -> EnvState {
  // u - 0.5 is exact; the product and the subtraction round once each unless the compiler fuses them
  // (then one rounding: at most one ulp apart; test/envs/mountain_car.test.ts measures which).
  return EnvState((reset_uniform(seed, env, episode, 0u) - 0.5) * 0.2 - 0.5, 0.0);
}

fn env_step(s: EnvState, action: EnvAction) -> EnvStep {
  let force = min(max(action, min_action), max_action);
  let velocity = clamp(s.velocity + (force * power - gravity * cos(3.0 * s.position)), -max_speed, max_speed);
  let position = clamp(s.position + velocity, min_position, max_position);
  let stopped = select(velocity, 0.0, position == min_position && velocity < 0.0);
  let terminated = position >= goal_position && stopped >= goal_velocity;
  let reward = select(0.0, GOAL_REWARD, terminated) - action * action * ACTION_COST;
  return EnvStep(EnvState(position, stopped), reward, terminated);
}

fn env_observe(s: EnvState) -> array<f32, OBS_SIZE> {
  return array<f32, OBS_SIZE>(s.position, s.velocity);
}

// Gymnasium's Box.sample(): uniform on [low, high]; low + 2u is exact for the [-1, 1] box.
fn env_random_action(seed: u32, env: u32, step: u32) -> EnvAction {
  return min_action + (max_action - min_action) * random_uniform(seed, env, step, 0u);
}

// A Box action from the trainer's vec4 of action lanes (D = 1: the force in lane 0).
fn env_box_action(a: vec4<f32>) -> EnvAction {
  return a.x;
}
