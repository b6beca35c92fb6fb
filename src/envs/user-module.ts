/**
 * A user's env module, from its text to a checked EnvSpec: parseEnvModule reads the descriptor (a JSON file
 * beside the module, or a header comment in it), checkEnvModule has the WGSL compiler check the module
 * against the interface (shaders/env_interface.wgsl) and its descriptor. Pure: the caller reads the files
 * (Node: the CLI; the browser: the page), so every problem is one line naming the file, never a stack.
 */
import type { ShaderPart } from '../gpu/kernel.ts';
import type { GpuContext } from '../platform/gpu-context.ts';
import { checkEnvSpec, EnvError } from './registry.ts';
import { actionDim, stateSize, type EnvSpec } from './types.ts';
import { envModulePart } from './vec-env.ts';

/** What an env module declares, in the words of shaders/env_interface.wgsl; `spec` fills in O, S and the action type. */
export function envInterface(spec?: EnvSpec): Record<string, string> {
  const fields = spec ? spec.stateNames.map((name) => `${name}: f32`).join(', ') : 'a: f32, b: f32, …';
  return {
    OBS_SIZE: `const OBS_SIZE: u32 = ${spec ? `${spec.observationSize}u` : '…'};`,
    EnvState: `struct EnvState { ${fields} }`,
    EnvAction: `alias EnvAction = ${spec ? actionType(spec) : 'u32 (Discrete) | f32 or array<f32, D> (Box)'};`,
    env_reset: 'fn env_reset(seed: u32, env: u32, episode: u32) -> EnvState',
    env_step: 'fn env_step(s: EnvState, action: EnvAction) -> EnvStep',
    env_observe: 'fn env_observe(s: EnvState) -> array<f32, OBS_SIZE>',
    env_random_action: 'fn env_random_action(seed: u32, env: u32, step: u32) -> EnvAction',
    ...(spec?.actionSpace.type === 'Discrete' ? {} : { env_box_action: 'fn env_box_action(a: vec4<f32>) -> EnvAction  (Box envs: the action from the trainer\'s lanes)' }),
  };
}

function actionType(spec: EnvSpec): string {
  const d = actionDim(spec);
  return spec.actionSpace.type === 'Discrete' ? 'u32' : d === 1 ? 'f32' : `array<f32, ${d}>`;
}

/** The side descriptor of a module: the same path with `.json` for `.wgsl`. */
export function descriptorPath(modulePath: string): string {
  return modulePath.replace(/\.wgsl$/i, '') + '.json';
}

const REQUIRED = ['id', 'observationSize', 'actionSpace', 'stateNames', 'maxEpisodeSteps', 'rewardThreshold'];
const OPTIONAL = ['observationLow', 'observationHigh', 'constants', 'summary'];
const SPACE_FIELDS: Record<string, string[]> = { Discrete: ['type', 'n'], Box: ['type', 'low', 'high', 'shape'] };
const HEADER = /^[ \t]*\/\*[ \t]*webgpu-rl env\b/m;

/** Whether a module carries its descriptor in a header comment (parseEnvModule's marker). */
export function hasDescriptorHeader(code: string): boolean {
  return HEADER.test(code);
}

/** The descriptor fields of a spec, as JSON for a side file (e.g. a checkpoint's copy of a user's env). */
export function descriptorOf(spec: EnvSpec): Record<string, unknown> {
  const bound = (values: number[]) => values.map((v) => (Number.isFinite(v) ? v : null));
  const d: Record<string, unknown> = { ...Object.fromEntries([...REQUIRED, ...OPTIONAL].map((key) => [key, (spec as unknown as Record<string, unknown>)[key]])) };
  d.observationLow = bound(spec.observationLow);
  d.observationHigh = bound(spec.observationHigh);
  if (d.summary === undefined) delete d.summary;
  return d;
}

/**
 * The EnvSpec of a user's env module `code` (read from `path`), checked with checkEnvSpec. The descriptor is
 * JSON with EnvSpec's fields except `module` and `cpu`: id, observationSize, observationLow/High (optional:
 * ±Infinity; null for one unbounded side), actionSpace, stateNames, maxEpisodeSteps, rewardThreshold (number
 * or null), constants (optional: values of the module's `override`s by name), summary (optional). It is
 * either `sideDescriptor`, the text of the JSON file beside the module (descriptorPath(path)), or the
 * module's header: a block comment that opens a line with the marker `/* webgpu-rl env`, then the JSON,
 * then `*\/` (the JSON may not contain `/*` or `*\/`; only the first such comment counts). Both at once is
 * an error, as is neither. Throws EnvError with one line naming the file (and line:col for bad JSON).
 */
export function parseEnvModule(code: string, path: string, sideDescriptor?: string | null): EnvSpec {
  const header = HEADER.exec(code);
  let file: string;
  let json: string;
  let offset = 0; // where `json` starts in the file named by `file`
  if (header && sideDescriptor != null) throw new EnvError(`${path} has a descriptor header and ${descriptorPath(path)} beside it: keep one`);
  if (header) {
    offset = header.index + header[0].length;
    const end = code.indexOf('*/', offset);
    if (end < 0) throw new EnvError(`${path}:${position(code, header.index)}: the descriptor header "/* webgpu-rl env" is never closed with "*/"`);
    [file, json] = [path, code.slice(offset, end)];
  } else if (sideDescriptor != null) {
    [file, json] = [descriptorPath(path), sideDescriptor];
  } else {
    throw new EnvError(`${path} has no descriptor: put it in ${descriptorPath(path)} or in a "/* webgpu-rl env { … } */" header comment`);
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    const message = oneLine(error instanceof Error ? error.message : String(error));
    const at = /^(.*?)(?: in JSON)? at position (\d+)/.exec(message);
    const where = at ? `${file}:${position(header ? code : json, offset + Number(at[2]))}` : file;
    throw new EnvError(`${where}: invalid JSON in the descriptor${header ? ' header' : ''}: ${at ? at[1] : message}`);
  }
  const bad = (why: string): never => {
    throw new EnvError(`${file}: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('the descriptor must be a JSON object');
  const d = value as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!REQUIRED.includes(key) && !OPTIONAL.includes(key)) bad(`unknown field "${key}" (fields: ${[...REQUIRED, ...OPTIONAL].join(', ')})`);
  }
  for (const key of REQUIRED) if (!(key in d)) bad(`missing field "${key}"`);
  const space = d.actionSpace as Record<string, unknown> | null;
  const spaceFields = typeof space === 'object' && space !== null ? SPACE_FIELDS[String(space.type)] : undefined;
  for (const key of spaceFields ? Object.keys(space!) : []) {
    if (!spaceFields!.includes(key)) bad(`unknown field "actionSpace.${key}" (a ${String(space!.type)} space has: ${spaceFields!.join(', ')})`);
  }
  if (d.summary !== undefined && typeof d.summary !== 'string') bad('"summary" must be a string');
  const o = d.observationSize;
  const bounds = (key: string, unbounded: number) => {
    const given = d[key];
    if (given === undefined) return Number.isInteger(o) && (o as number) > 0 ? new Array<number>(o as number).fill(unbounded) : [];
    return Array.isArray(given) ? given.map((v) => (v === null ? unbounded : v)) : given;
  };
  const spec = {
    ...d,
    observationLow: bounds('observationLow', -Infinity),
    observationHigh: bounds('observationHigh', Infinity),
    constants: d.constants ?? {},
    module: { code, path },
  } as EnvSpec;
  try {
    return checkEnvSpec(spec);
  } catch (error) {
    if (error instanceof EnvError) bad(error.message.replace(/^(env "[^"]*"|env descriptor): /, ''));
    throw error;
  }
}

/** "line:col" (1-based) of character `index` of `text`. */
function position(text: string, index: number): string {
  const before = text.slice(0, index).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** One line of the probe: WGSL that compiles only when the module agrees, and what its failure means. */
interface ProbeCheck {
  name: string;
  wgsl: string;
  explain(message: string): string;
}

function probeChecks(spec: EnvSpec, file: string, boxAsArray: boolean): ProbeCheck[] {
  const O = spec.observationSize;
  const S = stateSize(spec);
  const D = actionDim(spec);
  const space = spec.actionSpace.type === 'Discrete' ? `Discrete(${spec.actionSpace.n})` : `Box of shape [${D}]`;
  const mismatch = (what: string) => `${file} does not match its descriptor: ${what}`;
  const sig = (name: string) => (message: string) => `${file}: ${name} must be ${envInterface(spec)[name]} (${message})`;
  const action = spec.actionSpace.type === 'Discrete' ? '0u' : D === 1 && !boxAsArray ? '0.0f' : `array<f32, ${D}>()`;
  return [
    {
      name: 'OBS_SIZE type',
      wgsl: 'const _wrl_probe_obs_type: u32 = OBS_SIZE;',
      explain: (message) => `${file}: OBS_SIZE must be a u32 const (${message})`,
    },
    {
      name: 'OBS_SIZE',
      wgsl: `const _wrl_probe_obs_size: array<bool, OBS_SIZE> = array<bool, ${O}>();`,
      explain: (message) => mismatch(`OBS_SIZE is ${/array<bool, (\d+)>/.exec(message)?.[1] ?? 'not ' + O} in the module, observationSize ${O} in the descriptor`),
    },
    {
      name: 'EnvState',
      wgsl: `fn _wrl_probe_state() -> EnvState { return EnvState(${new Array(S).fill('0.0f').join(', ')}); }`,
      explain: (message) => {
        const count = /expected (\d+), found/.exec(message);
        return mismatch(count ? `EnvState has ${count[1]} fields in the module, stateNames lists ${S} in the descriptor` : `EnvState must be ${S} f32 fields, one per stateNames entry (${message})`);
      },
    },
    {
      name: 'EnvAction',
      wgsl: `fn _wrl_probe_action() -> EnvAction { return ${action}; }`,
      explain: (message) => mismatch(`EnvAction is ${/expected '([^']+)'/.exec(message)?.[1] ?? 'not ' + actionType(spec)} in the module, the descriptor's ${space} action space needs ${actionType(spec)}${D === 1 && boxAsArray ? ' or array<f32, 1>' : ''}`),
    },
    { name: 'env_reset', wgsl: 'fn _wrl_probe_reset() -> EnvState { return env_reset(0u, 0u, 0u); }', explain: sig('env_reset') },
    { name: 'env_step', wgsl: 'fn _wrl_probe_step(s: EnvState, a: EnvAction) -> EnvStep { return env_step(s, a); }', explain: sig('env_step') },
    { name: 'env_observe', wgsl: 'fn _wrl_probe_observe(s: EnvState) -> array<f32, OBS_SIZE> { return env_observe(s); }', explain: sig('env_observe') },
    { name: 'env_random_action', wgsl: 'fn _wrl_probe_random_action() -> EnvAction { return env_random_action(0u, 0u, 0u); }', explain: sig('env_random_action') },
    ...(spec.actionSpace.type === 'Box'
      ? [{ name: 'env_box_action', wgsl: 'fn _wrl_probe_box_action() -> EnvAction { return env_box_action(vec4<f32>(0.0)); }', explain: sig('env_box_action') }]
      : []),
  ];
}

/**
 * Compiles the env module of `spec` the way the kernels use it (the module first, so compiler positions are
 * its own lines; then rng, a probe generated from the descriptor, env_interface) inside a validation error
 * scope, and throws one EnvError line for the first problem: `path:line:col: message` for an error in the
 * module's text, `path: missing …` for an absent declaration, `path does not match its descriptor: …` or a
 * signature for a failing probe line, and a `constants` key that names no `override` of the module.
 * The probe goes before env_interface because Tint reports only its first error, in dependency order: the
 * interface's own uses of a mismatched declaration would otherwise fail first, with a message about its text.
 */
export async function checkEnvModule(ctx: GpuContext, spec: EnvSpec): Promise<void> {
  const module = envModulePart(spec);
  const file = typeof module === 'string' ? `shaders/${module}.wgsl` : module.label;
  const code = typeof module === 'string' ? ctx.shaderSource(module) : module.code;
  const boxD1 = spec.actionSpace.type === 'Box' && actionDim(spec) === 1;
  let failure = await compileWithProbe(ctx, spec, file, code, false);
  // Box with D = 1 takes EnvAction = f32 or array<f32, 1>: the second form gets its own compile.
  if (failure?.check === 'EnvAction' && boxD1) failure = await compileWithProbe(ctx, spec, file, code, true);
  if (failure) throw new EnvError(failure.message);
  const overrides = new Set([...stripComments(code).matchAll(/\boverride\s+([A-Za-z_]\w*)/g)].map((m) => m[1]));
  for (const name of Object.keys(spec.constants)) {
    if (!overrides.has(name)) {
      const known = overrides.size > 0 ? `its overrides: ${[...overrides].join(', ')}` : 'it declares none';
      throw new EnvError(`${file} does not match its descriptor: constant "${name}" names no \`override\` of the module (${known})`);
    }
  }
}

interface Failure {
  message: string;
  /** The failing probe check, if the error is in the probe. */
  check?: string;
}

async function compileWithProbe(ctx: GpuContext, spec: EnvSpec, file: string, code: string, boxAsArray: boolean): Promise<Failure | null> {
  const checks = probeChecks(spec, file, boxAsArray);
  const probe = [`// webgpu-rl: ${file} against its descriptor (src/envs/user-module.ts)`, ...checks.map((c) => c.wgsl)].join('\n');
  const parts: ShaderPart[] = [{ label: file, code }, 'rng', { label: 'probe', code: probe }, 'env_interface'];
  const texts = parts.map((p) => (typeof p === 'string' ? ctx.shaderSource(p) : p.code));
  const starts: number[] = [];
  let line = 1;
  for (const text of texts) {
    starts.push(line);
    line += text.split('\n').length;
  }
  const { device } = ctx;
  device.pushErrorScope('validation');
  const shader = device.createShaderModule({ label: `${file} (interface check)`, code: texts.join('\n') });
  const info = await shader.getCompilationInfo();
  const scoped = await device.popErrorScope();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length === 0) return scoped ? { message: `${file}: ${oneLine(scoped.message)}` } : null;
  const first = errors[0];
  const message = oneLine(first.message);
  let part = 0;
  while (part + 1 < starts.length && first.lineNum >= starts[part + 1]) part++;
  const missing = /unresolved (?:type|value|call target|identifier) '(\w+)'/.exec(message)?.[1];
  const declarations = envInterface(spec);
  if (missing && missing in declarations) return { message: `${file}: missing ${declarations[missing]}` };
  if (first.lineNum === 0) return { message: `${file}: ${message}` };
  if (part === 0) return { message: `${file}:${first.lineNum}:${first.linePos}: ${message}` };
  if (part === 2 && first.lineNum > starts[2]) {
    const check = checks[first.lineNum - starts[2] - 1];
    return { message: check.explain(message), check: check.name };
  }
  // In the generic code. A name of the module's that the interface declares too: point at the module's line.
  const where = typeof parts[part] === 'string' ? `shaders/${parts[part]}.wgsl:${first.lineNum - starts[part] + 1}:${first.linePos}` : 'the probe';
  const note = info.messages.find((m) => m !== first && m.lineNum > 0 && m.lineNum < starts[1]);
  if (note && message.startsWith('redeclaration')) return { message: `${file}:${note.lineNum}:${note.linePos}: ${message}: ${where} declares it too; rename yours` };
  return { message: `${file}: ${message} (in ${where}, compiled with the module)` };
}

/** WGSL without its comments (block comments nest), for finding declarations by name. */
function stripComments(code: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    if (depth === 0 && code.startsWith('//', i)) i = code.indexOf('\n', i) < 0 ? code.length : code.indexOf('\n', i) - 1;
    else if (code.startsWith('/*', i)) [depth, i] = [depth + 1, i + 1];
    else if (depth > 0 && code.startsWith('*/', i)) [depth, i] = [depth - 1, i + 1];
    else if (depth === 0) out += code[i];
  }
  return out;
}
