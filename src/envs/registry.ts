/**
 * Every env the library knows, by id: the built-ins (one line each) and the ones a user registers (their
 * own WGSL module and descriptor). The trainer, the vector env, the CLI and the page look envs up here.
 */
import { acrobotSpec } from './acrobot.ts';
import { cartPoleSpec } from './cartpole.ts';
import { mountainCarContinuousSpec, mountainCarSpec } from './mountain_car.ts';
import { pendulumSpec } from './pendulum.ts';
import type { ActionSpace, EnvSpec } from './types.ts';

/** A bad env id or descriptor: one line saying what is wrong. */
export class EnvError extends Error {}

const BUILTIN_ENVS: Record<string, () => EnvSpec> = {
  'CartPole-v1': () => cartPoleSpec('CartPole-v1'),
  'CartPole-v0': () => cartPoleSpec('CartPole-v0'),
  'Acrobot-v1': acrobotSpec,
  'MountainCar-v0': mountainCarSpec,
  'MountainCarContinuous-v0': mountainCarContinuousSpec,
  'Pendulum-v1': pendulumSpec,
};

const registered = new Map<string, EnvSpec>();

/** Ids of the built-in envs, in listing order. */
export const BUILTIN_ENV_IDS: readonly string[] = Object.keys(BUILTIN_ENVS);

/** Every known env id: the built-ins, then registered ones. */
export function envIds(): string[] {
  return [...BUILTIN_ENV_IDS, ...[...registered.keys()].filter((id) => !(id in BUILTIN_ENVS))];
}

export function isEnvId(id: string): boolean {
  return id in BUILTIN_ENVS || registered.has(id);
}

/** The descriptor of env `id`; throws EnvError naming the known ids. */
export function envSpec(id: string): EnvSpec {
  const user = registered.get(id);
  if (user) return user;
  const make = BUILTIN_ENVS[id];
  if (!make) throw new EnvError(`unknown env "${id}" (known: ${envIds().join(', ')})`);
  return make();
}

/**
 * Adds a user's env (a WGSL module against shaders/env_interface.wgsl and its descriptor) under its id,
 * replacing an earlier registration of the same id. Built-in ids cannot be taken. Returns the checked spec.
 */
export function registerEnv(spec: EnvSpec): EnvSpec {
  const checked = checkEnvSpec(spec);
  if (checked.id in BUILTIN_ENVS) throw new EnvError(`env id "${checked.id}" is a built-in env; give yours another id`);
  registered.set(checked.id, checked);
  return checked;
}

/** Removes a registered user env (tests, the page's env switch). */
export function unregisterEnv(id: string): void {
  registered.delete(id);
}

const isInt = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isNum = (v: unknown) => typeof v === 'number' && !Number.isNaN(v);

/** Checks a descriptor's fields and their agreement with each other; throws EnvError with one line. */
export function checkEnvSpec(spec: EnvSpec): EnvSpec {
  const where = typeof spec?.id === 'string' ? `env "${spec.id}"` : 'env descriptor';
  const bad = (why: string): never => {
    throw new EnvError(`${where}: ${why}`);
  };
  if (typeof spec !== 'object' || spec === null) bad('must be an object');
  if (typeof spec.id !== 'string' || !/^[A-Za-z][\w.:-]*$/.test(spec.id)) bad('"id" must be a name like "MyEnv-v0" (letters, digits, _ . : -)');
  if (!isInt(spec.observationSize, 1)) bad(`"observationSize" must be a positive integer; got ${JSON.stringify(spec.observationSize)}`);
  for (const key of ['observationLow', 'observationHigh'] as const) {
    const bounds = spec[key];
    if (!Array.isArray(bounds) || bounds.length !== spec.observationSize || !bounds.every(isNum)) bad(`"${key}" must hold ${spec.observationSize} numbers`);
  }
  checkActionSpace(spec.actionSpace, bad);
  if (!Array.isArray(spec.stateNames) || spec.stateNames.length < 1 || !spec.stateNames.every((n) => typeof n === 'string')) bad('"stateNames" must list the names of the EnvState fields');
  if (!isInt(spec.maxEpisodeSteps, 1)) bad(`"maxEpisodeSteps" must be a positive integer; got ${JSON.stringify(spec.maxEpisodeSteps)}`);
  if (spec.rewardThreshold !== null && !(typeof spec.rewardThreshold === 'number' && Number.isFinite(spec.rewardThreshold))) bad('"rewardThreshold" must be a number or null');
  if (typeof spec.constants !== 'object' || spec.constants === null || Array.isArray(spec.constants)) bad('"constants" must be an object of numbers');
  for (const [name, value] of Object.entries(spec.constants)) {
    if (!/^[A-Za-z_]\w*$/.test(name)) bad(`constant "${name}" is not a WGSL identifier`);
    if (!(typeof value === 'number' && Number.isFinite(value))) bad(`constant "${name}" must be a finite number`);
  }
  if (typeof spec.module !== 'object' || spec.module === null || !('stem' in spec.module || 'code' in spec.module)) bad('"module" must name a shader stem or carry WGSL code');
  return spec;
}

function checkActionSpace(space: ActionSpace, bad: (why: string) => never): void {
  if (typeof space !== 'object' || space === null) bad('"actionSpace" must be {"type": "Discrete", "n": …} or {"type": "Box", "low": […], "high": […], "shape": [D]}');
  if (space.type === 'Discrete') {
    if (!isInt(space.n, 2)) bad(`Discrete action space needs "n" >= 2; got ${JSON.stringify(space.n)}`);
    return;
  }
  if (space.type !== 'Box') bad(`"actionSpace.type" must be "Discrete" or "Box"; got ${JSON.stringify((space as { type: unknown }).type)}`);
  const d = Array.isArray(space.shape) && space.shape.length === 1 ? space.shape[0] : NaN;
  if (!isInt(d, 1)) bad('Box action space needs "shape": [D] with D >= 1');
  for (const key of ['low', 'high'] as const) {
    if (!Array.isArray(space[key]) || space[key].length !== d || !space[key].every((v) => typeof v === 'number' && Number.isFinite(v))) bad(`Box "${key}" must hold ${d} finite numbers`);
  }
  if (space.low.some((lo, i) => lo > space.high[i])) bad('Box "low" must not exceed "high"');
}
