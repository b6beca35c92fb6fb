/**
 * Counter-based random numbers: TypeScript twin of shaders/rng.wgsl (bit-identical, tested in
 * test/kernels/rng.test.ts). Every draw is a pure hash of (seed, stream, index, counter).
 */
export const RNG_STREAM_RESET = 0x100;
export const RNG_STREAM_ACTION = 0x200;
export const RNG_STREAM_RANDOM_POLICY = 0x300;
export const RNG_STREAM_EVAL_ACTION = 0x500;
/**
 * + 2d (u1) and + 2d + 1 (u2): the Box-Muller uniforms of dimension d of a Gaussian policy's action
 * (src/cpu/gaussian.ts), keyed (seed, stream, env, counter) as the categorical head's RNG_STREAM_ACTION.
 * 0x700…0x707 for D ≤ 4 (0x600 is src/sweep.ts's RNG_STREAM_SWEEP).
 */
export const RNG_STREAM_GAUSSIAN = 0x700;
/** + 4·epoch + round: the Feistel rounds of PPO's minibatch shuffle (src/cpu/ppo.ts, shaders/ppo_shuffle.wgsl); 0x1000…0x1F9F for updateEpochs ≤ 1000. */
export const RNG_STREAM_PPO_SHUFFLE = 0x1000;

export function rngMix(xIn: number): number {
  let x = xIn >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

export function rngU32(seed: number, stream: number, index: number, counter: number): number {
  let h = rngMix((seed + 0x9e3779b9) >>> 0);
  h = rngMix(h ^ ((stream + 0x7f4a7c15) >>> 0));
  h = rngMix(h ^ ((index + 0xf39cc060) >>> 0));
  return rngMix(h ^ ((counter + 0x5ced8d35) >>> 0));
}

/** Uniform on [0, 1) with 24 random bits; exactly representable in f32. */
export function rngUniform(seed: number, stream: number, index: number, counter: number): number {
  return (rngU32(seed, stream, index, counter) >>> 8) / 16777216;
}

/** A uniform action index in [0, n) of the random policy: twin of random_discrete in shaders/env_interface.wgsl. */
export function randomDiscrete(seed: number, env: number, step: number, n: number): number {
  return Math.floor(((rngU32(seed, RNG_STREAM_RANDOM_POLICY, env, step) >>> 16) * n) / 65536);
}
