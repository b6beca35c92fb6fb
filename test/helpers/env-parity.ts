/**
 * The GPU vector env against an env's CPU reference, one step from the same injected states: what every
 * env's test (test/envs/<env>.test.ts) checks at the awkward sizes. Returns the worst errors and the rows
 * whose flags differ, so each test applies its own measured tolerance and boundary rule.
 */
import { CpuVecEnv } from '../../src/envs/cpu-vec-env.ts';
import type { EnvSpec } from '../../src/envs/types.ts';
import { makeVecEnv } from '../../src/envs/vec-env.ts';
import type { GpuContext } from '../../src/platform/gpu-context.ts';

export interface ParityReport {
  /** Largest |GPU − CPU| over the stepped states (f32 GPU vs the f64 reference on the same f32 inputs). */
  stateError: number;
  /** Largest |GPU − CPU| / max(1, |CPU|) over final observations and rewards. */
  obsError: number;
  rewardError: number;
  /** Rows whose terminated flag differs (the test decides whether each lies within tolerance of a boundary). */
  terminatedMismatches: number[];
  /** Rows whose truncated flag, reset observation or episode counters differ: must be none. */
  otherMismatches: number[];
  /** Rows that ended an episode (to check that the case exercised resets). */
  dones: number;
  /** The CPU reference's states after the step (before any reset), [N × S]. */
  cpuNext: Float64Array;
}

export interface ParityCase {
  numEnvs: number;
  seed: number;
  /** [N × S] states to step from (f32-representable: the GPU holds f32). */
  states: Float32Array;
  /** Discrete: [N] indices; Box: [N × D] floats. */
  actions: ArrayLike<number>;
  elapsed: Uint32Array;
  episode: Uint32Array;
}

export async function gpuVersusCpu(ctx: GpuContext, spec: EnvSpec, c: ParityCase): Promise<ParityReport> {
  const n = c.numEnvs;
  const S = spec.stateNames.length;
  const O = spec.observationSize;
  const gpuEnv = makeVecEnv(ctx, { env: spec, numEnvs: n });
  await gpuEnv.reset(c.seed);
  gpuEnv.setStates(c.states, { elapsed: c.elapsed, episode: c.episode });
  const out = await gpuEnv.step(c.actions);
  const after = await gpuEnv.getStates();
  gpuEnv.destroy();

  // The reference steps each row from the same f32 state in f64.
  const cpu = new CpuVecEnv(n, spec, 'f64');
  cpu.reset(c.seed);
  cpu.states.set(c.states);
  cpu.elapsed.set(c.elapsed);
  cpu.episode.set(c.episode);
  const ref = spec.cpu!;
  const cpuNext = new Float64Array(n * S);
  const s = new Float64Array(S);
  const o = new Float64Array(O);
  const step = { reward: 0, terminated: false };
  const report: ParityReport = { stateError: 0, obsError: 0, rewardError: 0, terminatedMismatches: [], otherMismatches: [], dones: 0, cpuNext };
  const resetState = new Float64Array(S);
  const resetObs = new Float64Array(O);
  for (let i = 0; i < n; i++) {
    s.set(c.states.subarray(i * S, (i + 1) * S));
    const action = spec.actionSpace.type === 'Box' ? Array.prototype.slice.call(c.actions, i * spec.actionSpace.shape[0], (i + 1) * spec.actionSpace.shape[0]) : c.actions[i];
    ref.step(s, action, 'f64', step);
    cpuNext.set(s, i * S);
    ref.observe(s, o, 'f64');
    for (let k = 0; k < O; k++) report.obsError = Math.max(report.obsError, Math.abs(out.finalObs[i * O + k] - o[k]) / Math.max(1, Math.abs(o[k])));
    report.rewardError = Math.max(report.rewardError, Math.abs(out.rewards[i] - step.reward) / Math.max(1, Math.abs(step.reward)));
    if (out.terminated[i] !== (step.terminated ? 1 : 0)) report.terminatedMismatches.push(i);
    const truncated = c.elapsed[i] + 1 >= spec.maxEpisodeSteps;
    if (out.truncated[i] !== (truncated ? 1 : 0)) report.otherMismatches.push(i);
    const done = out.terminated[i] === 1 || out.truncated[i] === 1;
    if (done) {
      report.dones++;
      // Same-step autoreset: the next episode's first state and observation, counters advanced.
      ref.reset(resetState, c.seed, i, c.episode[i] + 1, 'f32');
      ref.observe(resetState, resetObs, 'f32');
      const resetOk = resetState.every((v, k) => Math.abs(after.states[i * S + k] - v) <= 1e-6 * Math.max(1, Math.abs(v))) &&
        resetObs.every((v, k) => Math.abs(out.obs[i * O + k] - v) <= 1e-6 * Math.max(1, Math.abs(v)));
      if (!resetOk || after.elapsed[i] !== 0 || after.episode[i] !== c.episode[i] + 1) report.otherMismatches.push(i);
    } else {
      for (let k = 0; k < S; k++) report.stateError = Math.max(report.stateError, Math.abs(after.states[i * S + k] - s[k]));
      const same = Array.from({ length: O }, (_, k) => out.obs[i * O + k] === out.finalObs[i * O + k]).every(Boolean);
      if (!same || after.elapsed[i] !== c.elapsed[i] + 1 || after.episode[i] !== c.episode[i]) report.otherMismatches.push(i);
    }
  }
  return report;
}
