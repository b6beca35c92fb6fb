/**
 * A user's env module from its text to a registered env: parseEnvModule (descriptor in a header comment or
 * a JSON file beside the module), checkEnvModule (the WGSL compiler against the interface and descriptor),
 * then the example (examples/catch/catch.wgsl) stepping on the GPU against a plain TS copy of its rules.
 * Every bad module or descriptor must give exactly one line naming the file.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuVecEnv } from '../../src/envs/cpu-vec-env.ts';
import { EnvError, envSpec, registerEnv, unregisterEnv } from '../../src/envs/registry.ts';
import type { CpuEnv, EnvSpec, FloatArray } from '../../src/envs/types.ts';
import { checkEnvModule, descriptorPath, envInterface, parseEnvModule } from '../../src/envs/user-module.ts';
import { makeVecEnv } from '../../src/envs/vec-env.ts';
import { randomDiscrete, rngUniform, RNG_STREAM_RESET } from '../../src/rng.ts';
import { train } from '../../src/trainer/train.ts';
import { useGpu } from '../helpers/gpu.ts';

const CATCH_PATH = 'examples/catch/catch.wgsl';
const CATCH = readFileSync(new URL('../../examples/catch/catch.wgsl', import.meta.url), 'utf8');
const COLUMNS = 5;
const ROWS = 10;

/** Catch's rules in plain TS (positions are small integers: exact in f32 and f64 alike). */
const catchCpu: CpuEnv = {
  reset(state, seed, env, episode) {
    const u = rngUniform(seed, RNG_STREAM_RESET, env, episode);
    state[0] = Math.min(Math.floor(Math.fround(u * COLUMNS)), COLUMNS - 1);
    state[1] = 0;
    state[2] = Math.floor(COLUMNS / 2);
  },
  step(state, action, _precision, out) {
    state[2] = Math.min(Math.max(state[2] + Number(action) - 1, 0), COLUMNS - 1);
    state[1] += 1;
    out.terminated = state[1] >= ROWS - 1;
    out.reward = out.terminated ? (state[2] === state[0] ? 1 : -1) : 0;
  },
  observe(state, out: FloatArray) {
    out[0] = (state[0] * 2) / (COLUMNS - 1) - 1;
    out[1] = (state[1] * 2) / (ROWS - 1) - 1;
    out[2] = (state[2] * 2) / (COLUMNS - 1) - 1;
  },
};

/** A tiny module of another shape (Box actions, array state) for the descriptor placements. */
const DRIFT = `const OBS_SIZE: u32 = 1u;
alias EnvState = array<f32, 2>;
alias EnvAction = f32;
fn env_reset(seed: u32, env: u32, episode: u32) -> EnvState { return EnvState(reset_uniform(seed, env, episode, 0u), 0.0); }
fn env_step(s: EnvState, action: EnvAction) -> EnvStep {
  let x = s[0] + clamp(action, -1.0, 1.0) * 0.1;
  return EnvStep(EnvState(x, s[1] + 1.0), -abs(x), false);
}
fn env_observe(s: EnvState) -> array<f32, OBS_SIZE> { return array<f32, OBS_SIZE>(s[0]); }
fn env_random_action(seed: u32, env: u32, step: u32) -> EnvAction { return random_uniform(seed, env, step, 0u) * 2.0 - 1.0; }
fn env_box_action(a: vec4<f32>) -> EnvAction { return a.x; }
`;
const DRIFT_DESCRIPTOR = {
  id: 'Drift-v0',
  observationSize: 1,
  observationHigh: [null],
  actionSpace: { type: 'Box', low: [-1], high: [1], shape: [1] },
  stateNames: ['x', 't'],
  maxEpisodeSteps: 20,
  rewardThreshold: null,
};

/** The message of the EnvError that `f` throws, checked to be one line. */
async function envErrorOf(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected an EnvError');
}

/** The example with its header descriptor edited by `edit`. */
function catchWith(edit: (descriptor: Record<string, unknown>) => void, code = CATCH): string {
  const start = code.indexOf('{');
  const end = code.indexOf('*/');
  const descriptor = JSON.parse(code.slice(start, end));
  edit(descriptor);
  return code.slice(0, start) + JSON.stringify(descriptor) + '\n' + code.slice(end);
}

/** Observations: the kernel's f32 scaling may round differently from the TS arithmetic (and may be fused). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>) {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThanOrEqual(1e-6);
}

/** 1-based line of the first occurrence of `text` in `code`. */
const lineOf = (code: string, text: string) => code.slice(0, code.indexOf(text)).split('\n').length;

describe('parseEnvModule', () => {
  it('reads the example header descriptor', () => {
    const spec = parseEnvModule(CATCH, CATCH_PATH);
    expect(spec).toMatchObject({
      id: 'Catch-v0',
      observationSize: 3,
      actionSpace: { type: 'Discrete', n: 3 },
      stateNames: ['ball_x', 'ball_y', 'paddle_x'],
      maxEpisodeSteps: 100,
      rewardThreshold: 0.8,
      constants: { columns: COLUMNS, rows: ROWS },
      module: { code: CATCH, path: CATCH_PATH },
    });
  });

  it('reads a side JSON file, with omitted and null bounds unbounded', () => {
    expect(descriptorPath('envs/drift.wgsl')).toBe('envs/drift.json');
    const spec = parseEnvModule(DRIFT, 'envs/drift.wgsl', JSON.stringify(DRIFT_DESCRIPTOR));
    expect(spec.observationLow).toEqual([-Infinity]);
    expect(spec.observationHigh).toEqual([Infinity]);
    expect(spec.constants).toEqual({});
    expect(spec.module).toEqual({ code: DRIFT, path: 'envs/drift.wgsl' });
  });

  it('reads the same descriptor from a header', () => {
    const code = `// Drift: one line before the header is fine\n/* webgpu-rl env ${JSON.stringify(DRIFT_DESCRIPTOR)} */\n${DRIFT}`;
    const spec = parseEnvModule(code, 'drift.wgsl');
    expect(spec).toMatchObject({ id: 'Drift-v0', stateNames: ['x', 't'], observationLow: [-Infinity] });
  });

  it('lists the interface for docs, filled in from a descriptor', () => {
    expect(envInterface(parseEnvModule(CATCH, CATCH_PATH))).toMatchObject({
      OBS_SIZE: 'const OBS_SIZE: u32 = 3u;',
      EnvState: 'struct EnvState { ball_x: f32, ball_y: f32, paddle_x: f32 }',
      EnvAction: 'alias EnvAction = u32;',
    });
  });

  it('gives one line naming the file for each bad descriptor', async () => {
    const side = (text: string) => envErrorOf(() => parseEnvModule(DRIFT, 'my_env.wgsl', text));
    const drift = (edit: (d: Record<string, unknown>) => void) => {
      const d: Record<string, unknown> = structuredClone(DRIFT_DESCRIPTOR);
      edit(d);
      return side(JSON.stringify(d));
    };
    expect(await envErrorOf(() => parseEnvModule(DRIFT, 'my_env.wgsl'))).toBe(
      'my_env.wgsl has no descriptor: put it in my_env.json or in a "/* webgpu-rl env { … } */" header comment',
    );
    expect(await side('{\n  "id": "Drift-v0",\n  "observationSize": 1,\n}')).toBe('my_env.json:4:1: invalid JSON in the descriptor: Expected double-quoted property name');
    expect(await side('')).toBe('my_env.json: invalid JSON in the descriptor: Unexpected end of JSON input');
    expect(await side('[1]')).toBe('my_env.json: the descriptor must be a JSON object');
    expect(await drift((d) => (d.maxEpisodeStep = 10))).toBe(
      'my_env.json: unknown field "maxEpisodeStep" (fields: id, observationSize, actionSpace, stateNames, maxEpisodeSteps, rewardThreshold, observationLow, observationHigh, constants, summary)',
    );
    expect(await drift((d) => (d.module = 'x'))).toMatch(/^my_env\.json: unknown field "module" /);
    expect(await drift((d) => delete d.stateNames)).toBe('my_env.json: missing field "stateNames"');
    expect(await drift((d) => (d.maxEpisodeSteps = 0))).toBe('my_env.json: "maxEpisodeSteps" must be a positive integer; got 0');
    expect(await drift((d) => (d.actionSpace = { type: 'Box', low: [-1], high: [1], shape: [1], dtype: 'f32' }))).toBe(
      'my_env.json: unknown field "actionSpace.dtype" (a Box space has: type, low, high, shape)',
    );
    expect(await drift((d) => (d.observationLow = [0, 0]))).toBe('my_env.json: "observationLow" must hold 1 numbers');
    expect(await drift((d) => (d.summary = 3))).toBe('my_env.json: "summary" must be a string');

    const header = `/* webgpu-rl env {\n  "id": "Drift-v0",\n  "observationSize": 1 1\n} */\n${DRIFT}`;
    expect(await envErrorOf(() => parseEnvModule(header, 'my_env.wgsl'))).toBe(
      "my_env.wgsl:3:24: invalid JSON in the descriptor header: Expected ',' or '}' after property value",
    );
    expect(await envErrorOf(() => parseEnvModule(CATCH, 'my_env.wgsl', '{}'))).toBe('my_env.wgsl has a descriptor header and my_env.json beside it: keep one');
    expect(await envErrorOf(() => parseEnvModule(`\n  /* webgpu-rl env {"id": "A"}\n${DRIFT}`, 'my_env.wgsl'))).toBe(
      'my_env.wgsl:2:1: the descriptor header "/* webgpu-rl env" is never closed with "*/"',
    );
  });
});

describe('checkEnvModule', () => {
  const gpu = useGpu();
  const check = (code: string, path = 'catch.wgsl', side?: string) => envErrorOf(() => checkEnvModule(gpu(), parseEnvModule(code, path, side)));

  it('passes the example, the built-in CartPole, and Box actions as f32 or array<f32, 1>', async () => {
    await checkEnvModule(gpu(), parseEnvModule(CATCH, CATCH_PATH));
    await checkEnvModule(gpu(), envSpec('CartPole-v1'));
    const descriptor = JSON.stringify(DRIFT_DESCRIPTOR);
    await checkEnvModule(gpu(), parseEnvModule(DRIFT, 'drift.wgsl', descriptor));
    const asArray = DRIFT.replace('alias EnvAction = f32;', 'alias EnvAction = array<f32, 1>;').replaceAll('clamp(action,', 'clamp(action[0],')
      .replace('return random_uniform(seed, env, step, 0u) * 2.0 - 1.0;', 'return EnvAction(random_uniform(seed, env, step, 0u) * 2.0 - 1.0);')
      .replace('fn env_box_action(a: vec4<f32>) -> EnvAction { return a.x; }', 'fn env_box_action(a: vec4<f32>) -> EnvAction { return EnvAction(a.x); }');
    await checkEnvModule(gpu(), parseEnvModule(asArray, 'drift.wgsl', descriptor));
  });

  it('puts a syntax error and a type error at their line:col in the user file', async () => {
    const syntax = CATCH.replace('let ball_y = s.ball_y + 1.0;', 'let ball_y = s.ball_y + ;');
    const line = lineOf(CATCH, 'let ball_y = s.ball_y + 1.0;');
    // Column 27: the ';' where the right operand should be.
    expect(await check(syntax)).toBe(`catch.wgsl:${line}:27: unable to parse right side of + expression`);
    // Known positions in a small module with its descriptor beside it: line 6, column 7 is the `x` of `let x`.
    const typed = DRIFT.replace('let x = s[0] +', 'let x: u32 = s[0] +');
    expect(await check(typed, 'drift.wgsl', JSON.stringify(DRIFT_DESCRIPTOR))).toBe("drift.wgsl:6:7: cannot initialize 'let' of type 'u32' with value of type 'f32'");
  });

  it('names the mismatch between module and descriptor', async () => {
    expect(await check(catchWith((d) => Object.assign(d, { observationSize: 4, observationLow: [-1, -1, -1, -1], observationHigh: [1, 1, 1, 1] })))).toBe(
      'catch.wgsl does not match its descriptor: OBS_SIZE is 3 in the module, observationSize 4 in the descriptor',
    );
    expect(await check(catchWith((d) => (d.stateNames = ['ball_x', 'ball_y', 'paddle_x', 'speed'])))).toBe(
      'catch.wgsl does not match its descriptor: EnvState has 3 fields in the module, stateNames lists 4 in the descriptor',
    );
    const f32Action = CATCH.replace('alias EnvAction = u32;', 'alias EnvAction = f32;').replace('return random_discrete(seed, env, step, 3u);', 'return f32(random_discrete(seed, env, step, 3u));');
    expect(await check(f32Action)).toBe("catch.wgsl does not match its descriptor: EnvAction is f32 in the module, the descriptor's Discrete(3) action space needs u32");
    expect(await check(catchWith((d) => (d.constants = { columns: 5, rows: 10, speed: 2 })))).toBe(
      'catch.wgsl does not match its descriptor: constant "speed" names no `override` of the module (its overrides: columns, rows)',
    );
    const commented = catchWith((d) => (d.constants = { columns: 5, rows: 10, speed: 2 }), `${CATCH}\n// override speed: f32 = 1.0;\n/* override speed: f32 = 1.0; */\n`);
    expect(await check(commented)).toMatch(/constant "speed" names no `override` of the module/);
    const u32Box = DRIFT.replace('alias EnvAction = f32;', 'alias EnvAction = u32;').replace('clamp(action,', 'clamp(f32(action),')
      .replace('return random_uniform(seed, env, step, 0u) * 2.0 - 1.0;', 'return 0u;')
      .replace('fn env_box_action(a: vec4<f32>) -> EnvAction { return a.x; }', 'fn env_box_action(a: vec4<f32>) -> EnvAction { return u32(a.x); }');
    expect(await check(u32Box, 'drift.wgsl', JSON.stringify(DRIFT_DESCRIPTOR))).toBe(
      "drift.wgsl does not match its descriptor: EnvAction is u32 in the module, the descriptor's Box of shape [1] action space needs f32 or array<f32, 1>",
    );
    const u32Field = CATCH.replace('paddle_x: f32,', 'paddle_x: u32,');
    expect(await check(u32Field)).toMatch(/^catch\.wgsl:\d+:\d+: /); // the module's own uses of the field fail first
  });

  it('names a missing declaration or a wrong signature', async () => {
    const start = CATCH.indexOf('fn env_step(');
    const noStep = CATCH.slice(0, start) + CATCH.slice(CATCH.indexOf('// Each coordinate'));
    expect(await check(noStep)).toBe('catch.wgsl: missing fn env_step(s: EnvState, action: EnvAction) -> EnvStep');
    expect(await check(CATCH.replace('const OBS_SIZE: u32 = 3u;', ''))).toBe('catch.wgsl: missing const OBS_SIZE: u32 = 3u;');
    const vecObserve = CATCH.replace('fn env_observe(s: EnvState) -> array<f32, OBS_SIZE> {', 'fn env_observe(s: EnvState) -> vec3<f32> {').replace(
      'return array<f32, OBS_SIZE>(s.ball_x',
      'return vec3<f32>(s.ball_x',
    );
    expect(await check(vecObserve)).toBe(
      "catch.wgsl: env_observe must be fn env_observe(s: EnvState) -> array<f32, OBS_SIZE> (return statement type must match its function return type, returned 'vec3<f32>', expected 'array<f32, 3>')",
    );
    const stateStep = CATCH.replace('fn env_step(s: EnvState, action: EnvAction) -> EnvStep {', 'fn env_step(s: EnvState, action: EnvAction) -> EnvState {').replace(
      'return EnvStep(EnvState(s.ball_x, ball_y, paddle_x), reward, landed);',
      'return EnvState(s.ball_x, ball_y, paddle_x + reward);',
    );
    expect(await check(stateStep)).toBe(
      "catch.wgsl: env_step must be fn env_step(s: EnvState, action: EnvAction) -> EnvStep (return statement type must match its function return type, returned 'EnvState', expected 'EnvStep')",
    );
    const observe = `${CATCH}\nfn observe(s: EnvState) -> f32 { return s.ball_x; }\n`;
    expect(await check(observe)).toMatch(
      new RegExp(`^catch\\.wgsl:${CATCH.split('\n').length + 1}:1: redeclaration of 'observe': shaders/env_interface\\.wgsl:\\d+:1 declares it too; rename yours$`),
    );
    const overrideObs = CATCH.replace('const OBS_SIZE: u32 = 3u;', 'override OBS_SIZE: u32 = 3u;');
    // The module's own array<f32, OBS_SIZE> fails first, at its line.
    expect(await check(overrideObs)).toBe(`catch.wgsl:${lineOf(CATCH, 'return array<f32, OBS_SIZE>(')}:10: cannot construct an array that has an override-expression count`);
  });
});

describe('the example on the GPU', () => {
  const gpu = useGpu();
  afterAll(() => unregisterEnv('Catch-v0'));

  it('registers, resets and steps like its rules in plain TS, autoreset included', async () => {
    const spec = registerEnv(parseEnvModule(CATCH, CATCH_PATH));
    await checkEnvModule(gpu(), spec);
    const n = 67;
    const seed = 12345;
    const env = makeVecEnv(gpu(), { env: 'Catch-v0', numEnvs: n });
    const cpu = new CpuVecEnv(n, { ...spec, cpu: catchCpu } as EnvSpec, 'f32');
    expectClose(await env.reset(seed), cpu.reset(seed));
    let dones = 0;
    let caught = 0;
    for (let t = 0; t < 2 * (ROWS - 1) + 3; t++) {
      const actions = Uint32Array.from({ length: n }, (_, i) => (i * 7 + t * 3) % 3);
      const gpuStep = await env.step(actions);
      const cpuStep = cpu.step(actions);
      expect(Array.from(gpuStep.rewards)).toEqual(Array.from(cpuStep.rewards));
      expect(Array.from(gpuStep.terminated)).toEqual(Array.from(cpuStep.terminated));
      expect(Array.from(gpuStep.truncated)).toEqual(Array.from(cpuStep.truncated));
      expectClose(gpuStep.obs, cpuStep.obs);
      expectClose(gpuStep.finalObs, cpuStep.finalObs);
      dones += gpuStep.terminated.reduce((a, b) => a + b, 0);
      caught += gpuStep.rewards.filter((r) => r === 1).length;
    }
    // Every env finished two episodes of exactly rows - 1 steps; some caught the ball, some missed.
    expect(dones).toBe(2 * n);
    expect(caught).toBeGreaterThan(0);
    expect(caught).toBeLessThan(2 * n);
    const states = await env.getStates();
    expect(Array.from(states.states)).toEqual(Array.from(cpu.states));
    expect(Array.from(states.episode)).toEqual(Array.from(cpu.episode));
    env.destroy();
  });

  it('scores about -0.6 under the random policy, episodes of rows - 1 steps', async () => {
    const n = 1024;
    const seed = 7;
    const steps = 5 * (ROWS - 1);
    const env = makeVecEnv(gpu(), { env: registerEnv(parseEnvModule(CATCH, CATCH_PATH)), numEnvs: n });
    await env.reset(seed);
    env.randomRollout(steps);
    const stats = await env.readStats();
    expect(stats.finished).toBe(5 * n);
    expect(stats.lengthSum).toBe(steps * n);
    // The same policy through the TS rules: env_random_action is random_discrete(seed, env, step, 3).
    const cpu = new CpuVecEnv(n, { ...envSpec('Catch-v0'), cpu: catchCpu } as EnvSpec, 'f32');
    cpu.reset(seed);
    for (let t = 0; t < steps; t++) cpu.step(Uint32Array.from({ length: n }, (_, i) => randomDiscrete(seed, i, t, 3)));
    expect(Array.from((await env.getStates()).states)).toEqual(Array.from(cpu.states));
    const mean = cpu.finishedReturns.reduce((a, b) => a + b, 0) / cpu.finishedReturns.length;
    expect(mean).toBeGreaterThan(-0.7);
    expect(mean).toBeLessThan(-0.5);
    env.destroy();
  });

  it('trains to its threshold (0.8) with train() and the default settings, well within 300k env steps', async () => {
    registerEnv(parseEnvModule(CATCH, CATCH_PATH));
    const result = await train(gpu(), { env: 'Catch-v0', totalSteps: 300_000, evalEpisodes: 200, seed: 3 });
    expect(result.solved, `mean return of the last 100 episodes ${result.meanReturn100}`).toBe(true);
    expect(result.solvedAtStep[0]).toBeLessThanOrEqual(300_000);
    // A random policy scores about -0.6; fresh episodes with the trained (sampling) policy score far above.
    expect(result.evaluation!.meanReturn).toBeGreaterThan(0.5);
  });
});
