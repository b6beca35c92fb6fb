/**
 * CPU reference of shaders/cartpole.wgsl: Gymnasium's CartPoleEnv.step in plain loops.
 * Two precisions: 'f64' is Gymnasium itself (float64 state), 'f32' rounds every intermediate to f32
 * the way NumPy 2 does for a float32 state, which is what the WGSL kernel approximates.
 * Written by hand from Gymnasium's source; never derived from the kernel.
 */
import { derivedConstants, type CartPoleParams } from '../env/cartpole-params.ts';
import { RNG_STREAM_RESET, rngUniform } from '../rng.ts';

export type Precision = 'f64' | 'f32';

const identity = (v: number) => v;

/**
 * One step of one env. `s` is [x, xDot, theta, thetaDot] and is overwritten with the new state.
 * Returns `terminated`, evaluated on the new state with strict comparisons as Gymnasium does.
 */
export function cartpoleStep(s: Float64Array | Float32Array | number[], action: number, p: CartPoleParams, precision: Precision): boolean {
  const r = precision === 'f32' ? Math.fround : identity;
  const { totalMass, poleMassLength } = derivedConstants(p);
  const [tm, pml, mp, len, g, tau] = [r(totalMass), r(poleMassLength), r(p.massPole), r(p.length), r(p.gravity), r(p.tau)];
  let x = s[0], xDot = s[1], theta = s[2], thetaDot = s[3];
  const force = action === 1 ? r(p.forceMag) : -r(p.forceMag);
  const cosTheta = r(Math.cos(theta));
  const sinTheta = r(Math.sin(theta));
  const temp = r(r(force + r(r(pml * r(thetaDot * thetaDot)) * sinTheta)) / tm);
  const thetaAcc = r(
    r(r(g * sinTheta) - r(cosTheta * temp)) /
      r(len * r(r(4.0 / 3.0) - r(r(mp * r(cosTheta * cosTheta)) / tm))),
  );
  const xAcc = r(temp - r(r(r(pml * thetaAcc) * cosTheta) / tm));
  if (p.integrator === 'euler') {
    x = r(x + r(tau * xDot));
    xDot = r(xDot + r(tau * xAcc));
    theta = r(theta + r(tau * thetaDot));
    thetaDot = r(thetaDot + r(tau * thetaAcc));
  } else {
    xDot = r(xDot + r(tau * xAcc));
    x = r(x + r(tau * xDot));
    thetaDot = r(thetaDot + r(tau * thetaAcc));
    theta = r(theta + r(tau * thetaDot));
  }
  s[0] = x; s[1] = xDot; s[2] = theta; s[3] = thetaDot;
  const xT = r(p.xThreshold), thT = r(p.thetaThresholdRadians);
  return x < -xT || x > xT || theta < -thT || theta > thT;
}

/** Component `lane` of the reset state of (seed, env, episode): U(-0.05, 0.05), same bits as the GPU. */
export function resetComponent(seed: number, env: number, episode: number, lane: number, precision: Precision): number {
  const u = rngUniform(seed, RNG_STREAM_RESET + lane, env, episode);
  return precision === 'f32' ? Math.fround(Math.fround(u - 0.5) * Math.fround(0.1)) : (u - 0.5) * 0.1;
}

export interface CpuStepResult {
  /** Row-major [N, 4]: the observation after the step, already reset where the episode ended (the env's live state). */
  obs: Float64Array | Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Row-major [N, 4]: the stepped state before any reset (the final observation where done). */
  finalObs: Float64Array | Float32Array;
}

/** N CartPoles with same-step autoreset, mirroring CartPoleVecEnv (GPU) semantics exactly. */
export class CpuCartPoleVecEnv {
  readonly states: Float64Array | Float32Array;
  readonly elapsed: Uint32Array;
  readonly episode: Uint32Array;
  readonly episodeReturn: Float64Array;
  /** Returns and lengths of finished episodes, in order of completion. */
  finishedReturns: number[] = [];
  finishedLengths: number[] = [];
  private seed = 0;
  /** Reused by every step(): the result of a step is valid until the next one. */
  private readonly result: CpuStepResult;
  private readonly scratch: Float64Array | Float32Array;

  constructor(readonly numEnvs: number, readonly params: CartPoleParams, readonly precision: Precision = 'f32') {
    const Arr = precision === 'f32' ? Float32Array : Float64Array;
    this.states = new Arr(numEnvs * 4);
    this.scratch = new Arr(4);
    this.result = {
      obs: this.states,
      rewards: new Float32Array(numEnvs),
      terminated: new Uint8Array(numEnvs),
      truncated: new Uint8Array(numEnvs),
      finalObs: new Arr(numEnvs * 4),
    };
    this.elapsed = new Uint32Array(numEnvs);
    this.episode = new Uint32Array(numEnvs);
    this.episodeReturn = new Float64Array(numEnvs);
  }

  reset(seed: number): Float64Array | Float32Array {
    this.seed = seed >>> 0;
    for (let i = 0; i < this.numEnvs; i++) {
      this.episode[i] = 0;
      this.resetEnv(i);
    }
    this.finishedReturns = [];
    this.finishedLengths = [];
    return this.states.slice();
  }

  private resetEnv(i: number) {
    for (let lane = 0; lane < 4; lane++) this.states[i * 4 + lane] = resetComponent(this.seed, i, this.episode[i], lane, this.precision);
    this.elapsed[i] = 0;
    this.episodeReturn[i] = 0;
  }

  /** Steps every env; the returned arrays are this env's own and are overwritten by the next step. */
  step(actions: ArrayLike<number>): CpuStepResult {
    const n = this.numEnvs;
    const { finalObs, rewards, terminated, truncated } = this.result;
    const s = this.scratch;
    for (let i = 0; i < n; i++) {
      s.set(this.states.subarray(i * 4, i * 4 + 4));
      const term = cartpoleStep(s, actions[i], this.params, this.precision);
      finalObs.set(s, i * 4);
      this.states.set(s, i * 4);
      rewards[i] = 1;
      this.elapsed[i] += 1;
      this.episodeReturn[i] += 1;
      const trunc = this.elapsed[i] >= this.params.maxEpisodeSteps;
      terminated[i] = term ? 1 : 0;
      truncated[i] = trunc ? 1 : 0;
      if (term || trunc) {
        this.finishedReturns.push(this.episodeReturn[i]);
        this.finishedLengths.push(this.elapsed[i]);
        this.episode[i] += 1;
        this.resetEnv(i);
      }
    }
    return this.result;
  }
}
