/**
 * Hyper-parameter sweeps: the spec (`webgpu-rl sweep --spec sweep.json`), its expansion into agents, the
 * groups and batches they train in, and the sweep's hash (shards: src/sweep-shard.ts; rows and summary:
 * src/sweep-report.ts). Pure: no fs, no GPU (the page can use it).
 *
 *   { "base":   { "env": "CartPole-v1", "totalSteps": 200000 },               config fields every agent shares
 *     "grid":   { "learningRate": [0.001, 0.003], "hidden": [32, 64] },       every combination, in key order
 *     "random": { "samples": 4, "seed": 1,                                    draws of AGENT_FIELDS numbers
 *                 "space": { "gamma": { "uniform": [0.95, 0.999] }, "vfCoef": { "logUniform": [0.1, 1] } } },
 *     "seeds":  4,                                                            1..S, or a list of seeds
 *     "shards": 2 }                                                           default N for the schedulers
 *
 * Configurations are the grid's product (last key fastest) × the random samples; each trains once per seed.
 * Agents that differ only in AGENT_FIELDS share a group (one TrainingSession, per-agent settings); a grid
 * field outside them (env, algo, numEnvs, nSteps, network, …) starts another group. A group larger than
 * the packed-weight buffer holds is split into batches of near-equal size, run one after another.
 */
import { fusedApplies } from './model/layout.ts';
import { AGENT_FIELDS, CONFIG_SCHEMA, ConfigError, kebab, netShapeOf, packedLayout, PACKED_WEIGHT_ROWS, validateConfig } from './config.ts';
import type { AgentField, AgentSettings, ConfigField, TrainConfig } from './config.ts';
import { rngUniform } from './rng.ts';

export const SWEEP_FORMAT = 'webgpu-rl-sweep/1';
/** The counter RNG's stream for random-search draws (the trainer's streams are 0x100 … 0x500). */
export const RNG_STREAM_SWEEP = 0x600;

export type SweepValue = string | number | boolean | null;
export type Distribution = { uniform: [number, number] } | { logUniform: [number, number] };

export interface SweepSpec {
  /** Config fields as given (validated); flags override them. */
  base: Partial<Record<ConfigField, SweepValue>>;
  /** Field → its values, in the spec's key order. */
  grid: Record<string, SweepValue[]>;
  random: { samples: number; seed: number; space: Record<string, Distribution> } | null;
  seeds: number[];
  /** The shard count schedulers that give only an index (Kubernetes) default to; null: not given. */
  shards: number | null;
}

export interface SweepAgent {
  /** `c<configuration>-s<seed>`, e.g. c007-s3. */
  id: string;
  /** Position in the canonical order (configuration-major, then seeds in the spec's order). */
  index: number;
  configuration: number;
  /** The swept fields' values of its configuration (grid fields, then random ones). */
  values: Record<string, SweepValue>;
  seed: number;
  /** What it trains with: numAgents 1, stopOnTarget false; `train --config` with it is the same run. */
  config: TrainConfig;
}

/** Agents trained together in one session: config.agents holds each one's settings. */
export interface SweepBatch {
  index: number;
  agents: SweepAgent[];
  config: TrainConfig;
}

/** Fields the sweep itself sets: never in base, grid, random, or a flag. */
const SWEEP_OWNED: Record<string, string> = {
  seed: 'the seeds go in "seeds"',
  numAgents: 'the sweep decides which agents train together',
  stopOnTarget: 'a sweep trains every agent to totalSteps and records when it reached its target',
  agents: 'the sweep sets each agent\'s settings',
};
const TOP_LEVEL = ['base', 'grid', 'random', 'seeds', 'shards'];

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** validateConfig on a few fields, its message prefixed with where they came from. */
function checkFields(where: string, fields: Record<string, unknown>): TrainConfig {
  try {
    return validateConfig(fields);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${where}: ${error.message}`);
    throw error;
  }
}

function checkOwned(where: string, field: string): void {
  if (field in SWEEP_OWNED) throw new ConfigError(`${where}: "${field}" cannot be set in a sweep: ${SWEEP_OWNED[field]}`);
}

function isIntIn(x: unknown, min: number, max = Number.MAX_SAFE_INTEGER): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
}

/** Parses and checks a spec (the JSON already parsed); every problem is one ConfigError line naming `where`. */
export function parseSweepSpec(json: unknown, where: string): SweepSpec {
  if (!isObject(json)) throw new ConfigError(`${where}: a sweep spec is a JSON object (fields: ${TOP_LEVEL.join(', ')})`);
  for (const key of Object.keys(json)) if (!TOP_LEVEL.includes(key)) throw new ConfigError(`${where}: unknown field "${key}" (fields: ${TOP_LEVEL.join(', ')})`);

  const base = json.base ?? {};
  if (!isObject(base)) throw new ConfigError(`${where}: "base" must be an object of config fields`);
  for (const field of Object.keys(base)) checkOwned(`${where}: base`, field);
  checkFields(`${where}: base`, base);

  const gridRaw = json.grid ?? {};
  if (!isObject(gridRaw)) throw new ConfigError(`${where}: "grid" must be an object: config field → list of values`);
  const grid: Record<string, SweepValue[]> = {};
  for (const [field, values] of Object.entries(gridRaw)) {
    const at = `${where}: grid.${field}`;
    if (!(field in CONFIG_SCHEMA)) throw new ConfigError(`${at}: unknown config field "${field}"`);
    checkOwned(at, field);
    if (field in base) throw new ConfigError(`${at}: "${field}" is set in base and swept in grid; keep one`);
    if (!Array.isArray(values) || values.length === 0) throw new ConfigError(`${at} must be a non-empty list of values`);
    values.forEach((value, i) => {
      checkFields(`${at}[${i}]`, { [field]: value });
      if (values.indexOf(value) !== i) throw new ConfigError(`${at} lists ${JSON.stringify(value)} twice`);
    });
    grid[field] = values as SweepValue[];
  }

  let random: SweepSpec['random'] = null;
  if (json.random !== undefined) {
    const r = json.random;
    if (!isObject(r)) throw new ConfigError(`${where}: "random" must be an object {samples, seed, space}`);
    for (const key of Object.keys(r)) if (!['samples', 'seed', 'space'].includes(key)) throw new ConfigError(`${where}: random: unknown field "${key}" (fields: samples, seed, space)`);
    if (!isIntIn(r.samples, 1)) throw new ConfigError(`${where}: random.samples must be an integer >= 1; got ${JSON.stringify(r.samples)}`);
    const seed = r.seed ?? 1;
    if (!isIntIn(seed, 0, 0xffffffff)) throw new ConfigError(`${where}: random.seed must be an integer from 0 to 4294967295; got ${JSON.stringify(r.seed)}`);
    if (!isObject(r.space) || Object.keys(r.space).length === 0) throw new ConfigError(`${where}: random.space must name at least one field: { "learningRate": { "logUniform": [0.0001, 0.01] } }`);
    const space: Record<string, Distribution> = {};
    for (const [field, dist] of Object.entries(r.space)) space[field] = parseDistribution(`${where}: random.space.${field}`, field, dist, base, grid);
    random = { samples: r.samples, seed, space };
  }

  let seeds: number[];
  const s = json.seeds ?? 1;
  if (typeof s === 'number') {
    if (!isIntIn(s, 1, 100_000)) throw new ConfigError(`${where}: "seeds" must be a count from 1 to 100000 or a list of seeds; got ${JSON.stringify(s)}`);
    seeds = Array.from({ length: s }, (_, i) => i + 1);
  } else if (Array.isArray(s) && s.length > 0) {
    s.forEach((seed, i) => {
      if (!isIntIn(seed, 0, 0xffffffff)) throw new ConfigError(`${where}: seeds[${i}] must be an integer from 0 to 4294967295; got ${JSON.stringify(seed)}`);
      if (s.indexOf(seed) !== i) throw new ConfigError(`${where}: "seeds" lists ${seed} twice`);
    });
    seeds = s as number[];
  } else {
    throw new ConfigError(`${where}: "seeds" must be a count (>= 1) or a non-empty list of seeds; got ${JSON.stringify(s)}`);
  }

  const shards = json.shards ?? null;
  if (shards !== null && !isIntIn(shards, 1)) throw new ConfigError(`${where}: "shards" must be an integer >= 1; got ${JSON.stringify(shards)}`);
  return { base: base as SweepSpec['base'], grid, random, seeds, shards };
}

function parseDistribution(at: string, field: string, dist: unknown, base: Record<string, unknown>, grid: Record<string, unknown>): Distribution {
  if (!(field in CONFIG_SCHEMA)) throw new ConfigError(`${at}: unknown config field "${field}"`);
  checkOwned(at, field);
  if (!(AGENT_FIELDS as readonly string[]).includes(field)) {
    throw new ConfigError(`${at}: "${field}" changes buffer shapes, so it cannot be drawn per agent; list its values in "grid" (random fields: ${randomFields().join(', ')})`);
  }
  const spec = CONFIG_SCHEMA[field as AgentField];
  if (spec.kind !== 'float' && spec.kind !== 'optionalFloat') throw new ConfigError(`${at}: "${field}" is not a real number; list its values in "grid"`);
  if (field in grid) throw new ConfigError(`${at}: "${field}" is swept in both grid and random; keep one`);
  if (field in base) throw new ConfigError(`${at}: "${field}" is set in base and drawn in random; keep one`);
  const kinds = isObject(dist) ? Object.keys(dist) : [];
  if (!isObject(dist) || kinds.length !== 1 || !['uniform', 'logUniform'].includes(kinds[0])) {
    throw new ConfigError(`${at} must be { "uniform": [low, high] } or { "logUniform": [low, high] }`);
  }
  const kind = kinds[0] as 'uniform' | 'logUniform';
  const bounds = dist[kind];
  if (!Array.isArray(bounds) || bounds.length !== 2 || !bounds.every((b) => typeof b === 'number' && Number.isFinite(b))) {
    throw new ConfigError(`${at}.${kind} must be [low, high], two finite numbers; got ${JSON.stringify(bounds)}`);
  }
  const [low, high] = bounds as [number, number];
  if (!(low < high)) throw new ConfigError(`${at}.${kind} is an empty range: low must be < high; got [${low}, ${high}]`);
  if (kind === 'logUniform' && low <= 0) throw new ConfigError(`${at}.logUniform bounds must be > 0; got [${low}, ${high}]`);
  checkFields(`${at}.${kind}[0]`, { [field]: low });
  checkFields(`${at}.${kind}[1]`, { [field]: high });
  return { [kind]: [low, high] } as Distribution;
}

/** AGENT_FIELDS that hold real numbers: what random search can draw. */
export function randomFields(): string[] {
  return AGENT_FIELDS.filter((f) => CONFIG_SCHEMA[f].kind === 'float' || CONFIG_SCHEMA[f].kind === 'optionalFloat');
}

/** The swept fields, grid first, in the spec's order. */
export function sweptFields(spec: SweepSpec): string[] {
  return [...Object.keys(spec.grid), ...Object.keys(spec.random?.space ?? {})];
}

/** Fields whose values are best read on a log axis: log-uniform draws, or three or more positive grid values spanning 10x or more. */
export function logScaleFields(spec: SweepSpec): string[] {
  const fromRandom = Object.entries(spec.random?.space ?? {}).filter(([, d]) => 'logUniform' in d).map(([f]) => f);
  const fromGrid = Object.entries(spec.grid)
    .filter(([, vs]) => vs.length > 2 && vs.every((v) => typeof v === 'number' && v > 0) && Math.max(...(vs as number[])) / Math.min(...(vs as number[])) >= 10)
    .map(([f]) => f);
  return [...fromGrid, ...fromRandom];
}

/**
 * The base every agent starts from: the spec's base overridden by flags (the `train` rule: flags over the
 * file). A flag may not name a swept field or one the sweep sets.
 */
export function sweepBase(spec: SweepSpec, flags: Partial<Record<ConfigField, unknown>>, where: string): Partial<Record<ConfigField, unknown>> {
  for (const field of Object.keys(flags)) {
    if (field in SWEEP_OWNED) throw new ConfigError(`--${kebab(field)} cannot be given to sweep: ${SWEEP_OWNED[field]}`);
    if (sweptFields(spec).includes(field)) throw new ConfigError(`--${kebab(field)}: "${field}" is swept by ${where}; drop the flag`);
  }
  const base = { ...spec.base, ...flags };
  checkFields('base', base);
  return base;
}

/** One draw of `dist`, rounded to 6 significant digits (the GPU reads f32; the rows stay readable). */
function draw(dist: Distribution, u: number): number {
  const x = 'uniform' in dist ? dist.uniform[0] + u * (dist.uniform[1] - dist.uniform[0]) : Math.exp(Math.log(dist.logUniform[0]) + u * (Math.log(dist.logUniform[1]) - Math.log(dist.logUniform[0])));
  return Number(x.toPrecision(6));
}

/** The configurations' swept values: grid points (last key fastest) × random samples. */
export function configurations(spec: SweepSpec): Record<string, SweepValue>[] {
  let points: Record<string, SweepValue>[] = [{}];
  for (const [field, values] of Object.entries(spec.grid)) points = points.flatMap((p) => values.map((v) => ({ ...p, [field]: v })));
  const r = spec.random;
  if (!r) return points;
  // Keyed by the field's position in AGENT_FIELDS, so adding a field to the space leaves the others' draws alone.
  const samples = Array.from({ length: r.samples }, (_, j) =>
    Object.fromEntries(Object.entries(r.space).map(([field, dist]) => [field, draw(dist, rngUniform(r.seed, RNG_STREAM_SWEEP, j, AGENT_FIELDS.indexOf(field as AgentField)))])),
  );
  return points.flatMap((p) => samples.map((s) => ({ ...p, ...s })));
}

function describe(values: Record<string, SweepValue>): string {
  return Object.entries(values).map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Every agent of the sweep, in the canonical order; each config validated (one line naming its configuration). */
export function expandSweep(spec: SweepSpec, base: Partial<Record<ConfigField, unknown>>): SweepAgent[] {
  const configs = configurations(spec);
  const width = Math.max(3, String(configs.length - 1).length);
  const agents: SweepAgent[] = [];
  configs.forEach((values, c) => {
    const name = `c${String(c).padStart(width, '0')}`;
    for (const seed of spec.seeds) {
      const config = checkFields(`configuration ${name}${Object.keys(values).length ? ` (${describe(values)})` : ''}`, {
        ...base,
        ...values,
        seed,
        numAgents: 1,
        stopOnTarget: false,
      });
      agents.push({ id: `${name}-s${seed}`, index: agents.length, configuration: c, values, seed, config });
    }
  });
  return agents;
}

function omitAgentFields(config: TrainConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const f of AGENT_FIELDS) delete out[f];
  return out;
}

/** Agents that can share one session: equal in every field outside AGENT_FIELDS. Groups in order of first agent. */
export function sweepGroups(agents: SweepAgent[]): SweepAgent[][] {
  const groups = new Map<string, SweepAgent[]>();
  for (const agent of agents) {
    const key = stableJson(omitAgentFields(agent.config));
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(agent);
  }
  return [...groups.values()];
}

/**
 * How many agents of this config one session takes: numAgents' max, and for a network the fused kernels
 * train (not PPO's: it always takes the layered path), as many as their packed weights hold (G × stride ≤
 * 4096 vec4s; more would take the slower layered path).
 */
export function maxAgentsPerSession(config: TrainConfig): number {
  const shape = netShapeOf(config);
  const max = CONFIG_SCHEMA.numAgents.kind === 'int' ? (CONFIG_SCHEMA.numAgents.max ?? Infinity) : Infinity;
  if (!fusedApplies(shape) || config.algo === 'ppo') return max;
  return Math.max(1, Math.min(max, Math.floor(PACKED_WEIGHT_ROWS / packedLayout(shape).stride)));
}

/** The session config of agents of one group: the first one's shared fields, each one's AGENT_FIELDS. */
export function batchConfig(agents: SweepAgent[]): TrainConfig {
  const settings = agents.map((a) => Object.fromEntries(AGENT_FIELDS.map((f) => [f, a.config[f]])) as AgentSettings);
  return validateConfig({ ...agents[0].config, numAgents: agents.length, agents: settings });
}

/**
 * Groups split into batches of near-equal size that fit (packed weights, and `cap`, e.g. the adapter's
 * storage limit), in group order. Results do not depend on the batching: each agent trains bit for bit
 * as it would alone.
 */
export function sweepBatches(agents: SweepAgent[], cap: (config: TrainConfig) => number = () => Infinity): SweepBatch[] {
  const batches: SweepBatch[] = [];
  for (const group of sweepGroups(agents)) {
    const max = Math.max(1, Math.min(maxAgentsPerSession(group[0].config), cap(group[0].config)));
    let first = 0;
    for (const size of nearEqualSizes(group.length, max)) {
      const members = group.slice(first, first + size);
      first += size;
      batches.push({ index: batches.length, agents: members, config: batchConfig(members) });
    }
  }
  return batches;
}

/** `total` split into the fewest parts of at most `max`, their sizes differing by at most one, larger first. */
export function nearEqualSizes(total: number, max: number): number[] {
  const count = Math.ceil(total / max);
  return Array.from({ length: count }, (_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));
}

/**
 * A cap for sweepBatches from the adapter: the agents of one session share its largest storage binding
 * (G × N × (T + 1) rows), so `maxEnvs(T, G, env)` (maxTrainEnvs on a device) must stay ≥ N.
 */
export function storageCap(maxEnvs: (nSteps: number, numAgents: number, env: string) => number): (config: TrainConfig) => number {
  return (c) => {
    let g = Math.max(1, Math.floor(maxEnvs(c.nSteps, 1, c.env) / c.numEnvs));
    while (g > 1 && c.numEnvs > maxEnvs(c.nSteps, g, c.env)) g--;
    return g;
  };
}

/** JSON with object keys sorted at every level: equal values, equal text. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** 64-bit FNV-1a of the text's UTF-8 bytes, as 16 hex digits. */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/**
 * The sweep's identity: every agent's id and full config (so defaults, presets and flags count, and two
 * specs that expand alike agree). Shard folders and --resume compare it.
 */
export function sweepHash(agents: SweepAgent[]): string {
  return fnv1a64(stableJson({ format: SWEEP_FORMAT, agents: agents.map((a) => ({ id: a.id, config: a.config })) }));
}
