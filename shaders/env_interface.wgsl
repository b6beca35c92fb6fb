// The env interface: what every env module (shaders/envs/*.wgsl, or a user's own file) must declare, and
// what the generic code around it (vec_env.wgsl, the trainer's rollout.wgsl) provides. Prepended: rng.wgsl.
// The TypeScript side of the interface, with the descriptor that must match the module: src/envs/types.ts.
//
// An env module declares, and nothing else is asked of it:
//   const OBS_SIZE: u32 = …;                          O: floats in an observation
//   struct EnvState { a: f32, b: f32, … }             S f32 fields (or `alias EnvState = array<f32, S>`),
//                                                     in the order of Gymnasium's `env.state`
//   alias EnvAction = u32;                            Discrete(n): the action's index;
//                   = f32; / = array<f32, D>;         Box: the raw action (clipping is the env's business)
//   fn env_reset(seed: u32, env: u32, episode: u32) -> EnvState           the start of an episode
//   fn env_step(s: EnvState, action: EnvAction) -> EnvStep               one step: next state, reward, terminated
//   fn env_observe(s: EnvState) -> array<f32, OBS_SIZE>                   what the agent sees
//   fn env_random_action(seed: u32, env: u32, step: u32) -> EnvAction     Gymnasium's action_space.sample()
//   fn env_box_action(a: vec4<f32>) -> EnvAction                           Box envs only: the action from the
//                                                                         trainer's lanes (D <= 4), e.g. `return a.x;`
// and may declare `override` constants (physics), which the descriptor's `constants` set by name.
// Everything episodic is generic and not the env's: the time limit (truncation), same-step autoreset
// keeping the final observation, episode counters and returns, statistics.
// Module-scope declarations may come in any order in WGSL, so the env module goes first in every
// concatenation: a compiler message about it then carries its own line numbers.

// Gymnasium's TimeLimit: an episode is truncated once it has taken this many steps (the descriptor's).
override max_episode_steps: u32 = 500u;

struct EnvStep {
  state: EnvState,
  reward: f32,
  terminated: bool,   // Gymnasium's `terminated` (a terminal state; no bootstrap through it)
}

// Observations travel as vec4s (the last one zero-padded): whole-vector loads and stores, and the
// networks' dot products read them four at a time.
const OBS_VEC4S: u32 = (OBS_SIZE + 3u) / 4u;
alias Obs = array<vec4<f32>, OBS_VEC4S>;

fn observe(s: EnvState) -> Obs {
  let o = env_observe(s);
  var x: Obs;
  for (var k = 0u; k < OBS_VEC4S; k++) {
    var v = vec4<f32>(0.0);
    for (var i = 0u; i < 4u; i++) {
      if (4u * k + i < OBS_SIZE) { v[i] = o[4u * k + i]; }
    }
    x[k] = v;
  }
  return x;
}

struct EnvCounters {
  elapsed: u32,          // steps taken in the current episode
  episode: u32,          // episodes this env has finished: keys its next reset
  episode_return: f32,   // undiscounted, raw rewards
  discounted_return: f32, // the trainer's reward normalization (VecNormalize's `returns`); 0 elsewhere
}

// One env's whole state as it lives in a storage buffer: S + 4 words.
struct EnvSlot {
  s: EnvState,
  c: EnvCounters,
}

// U[0, 1) for lane `lane` of the reset state of (seed, env, episode): exactly the TypeScript twin's
// rngUniform(seed, RNG_STREAM_RESET + lane, env, episode) (src/rng.ts).
fn reset_uniform(seed: u32, env: u32, episode: u32, lane: u32) -> f32 {
  return rng_uniform(vec4<u32>(seed, RNG_STREAM_RESET + lane, env, episode));
}

// A uniform action index in [0, n) for the random policy of step `step` (randomDiscrete in src/rng.ts).
fn random_discrete(seed: u32, env: u32, step: u32, n: u32) -> u32 {
  return ((rng_u32(vec4<u32>(seed, RNG_STREAM_RANDOM_POLICY, env, step)) >> 16u) * n) >> 16u;
}

// U[0, 1) for dimension `lane` of a random Box action of step `step`.
fn random_uniform(seed: u32, env: u32, step: u32, lane: u32) -> f32 {
  return rng_uniform(vec4<u32>(seed, RNG_STREAM_RANDOM_POLICY + 1u + lane, env, step));
}

const STATS_RING: u32 = 256u;

struct EpisodeStats {
  finished: atomic<u32>,          // episodes finished since the host last cleared this buffer
  length_sum: atomic<u32>,
  // Returns written to the ring (slot = write order mod STATS_RING): one per finished episode, except
  // where a kernel counts episodes in registers and writes one return per invocation (envRandomRollout).
  // The host reads min(returns_written, STATS_RING) slots; when more were written between two reads
  // the ring keeps an arbitrary subset of them.
  returns_written: atomic<u32>,
  _pad: u32,
  recent_returns: array<f32, STATS_RING>,
}


// Steps one env and advances its counters. Returns bit 0 terminated, bit 1 truncated; the caller
// records the episode and resets (same-step autoreset).
fn advance_env(slot: ptr<function, EnvSlot>, action: EnvAction) -> EnvStep {
  let step = env_step((*slot).s, action);
  (*slot).s = step.state;
  (*slot).c.elapsed += 1u;
  (*slot).c.episode_return += step.reward;
  return step;
}

fn done_bits(step: EnvStep, c: EnvCounters) -> u32 {
  return select(0u, 1u, step.terminated) | select(0u, 2u, c.elapsed >= max_episode_steps);
}

// The next episode of an env whose episode just ended (counters zeroed, episode index advanced).
fn reset_slot(slot: ptr<function, EnvSlot>, seed: u32, env: u32) {
  (*slot).c.episode += 1u;
  (*slot).c.elapsed = 0u;
  (*slot).c.episode_return = 0.0;
  (*slot).c.discounted_return = 0.0;
  (*slot).s = env_reset(seed, env, (*slot).c.episode);
}
