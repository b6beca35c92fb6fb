/**
 * The one training configuration. Its fields are the CLI flags (kebab-case), the demo's controls, the
 * README's table and the run folder's config.json: everything below is generated from CONFIG_SCHEMA.
 * Names follow Stable-Baselines3 where it has one.
 */
import { BUILTIN_ENV_IDS, envIds, envSpec } from './envs/registry.ts';
import type { EnvSpec } from './envs/types.ts';
import type { NetShape } from './model/layout.ts';

export type Algo = 'a2c' | 'reinforce' | 'qac' | 'tdac' | 'ppo';
export type OptimizerName = 'adam' | 'rmsprop';

export interface TrainConfig {
  /** An env id of the registry (src/envs/registry.ts): a built-in, or a user's registered env. */
  env: string;
  algo: Algo;
  seed: number;
  numEnvs: number;
  numAgents: number;
  nSteps: number;
  totalSteps: number;
  targetReturn: number | null;
  stopOnTarget: boolean;
  hidden: number;
  /** Hidden widths of actor and critic (README "Networks"): "64,64", or "pi=64,64/vf=256,256"; null: one layer of `hidden`. */
  netArch: string | null;
  activation: 'relu' | 'tanh';
  sharedTrunk: boolean;
  init: 'orthogonal' | 'pytorch';
  logStdInit: number;
  optimizer: OptimizerName;
  learningRate: number;
  lrSchedule: 'constant' | 'linear';
  gamma: number;
  gaeLambda: number;
  entCoef: number;
  vfCoef: number;
  maxGradNorm: number;
  normalizeAdvantage: boolean;
  /** PPO (CleanRL's ppo.py): passes over the rollout per update. */
  updateEpochs: number;
  /** PPO: minibatches per epoch; T·N must be a multiple. */
  numMinibatches: number;
  /** PPO: the surrogate's ratio clipped to [1 − clipCoef, 1 + clipCoef]. */
  clipCoef: number;
  /** PPO: the value loss clipped around the rollout's values as well. */
  clipVloss: boolean;
  /** PPO: stop the update's epochs once the approximate KL of an epoch's last minibatch exceeds this; null: never. */
  targetKl: number | null;
  normalizeObservations: boolean;
  normalizeRewards: boolean;
  adamBeta1: number;
  adamBeta2: number;
  rmspropAlpha: number;
  optimizerEps: number;
  metricsEvery: number;
  evalEpisodes: number;
  /**
   * Per-agent settings (length numAgents): agent a trains with this config overridden by agents[a], as
   * `train` with those settings alone would (a hyper-parameter sweep). Absent: every agent shares the
   * config and agent a's seed is seed + a. Not a CLI flag; `webgpu-rl sweep` sets it.
   */
  agents?: AgentSettings[];
}

/**
 * The fields that may differ between the agents of one run: every scalar that changes no buffer's shape
 * (the kernels read them per agent). The rest (env, algo, numEnvs, nSteps, network, …) is shared.
 */
export const AGENT_FIELDS = [
  'seed',
  'learningRate',
  'lrSchedule',
  'gamma',
  'gaeLambda',
  'entCoef',
  'vfCoef',
  'maxGradNorm',
  'normalizeAdvantage',
  'clipCoef',
  'targetKl',
  'adamBeta1',
  'adamBeta2',
  'rmspropAlpha',
  'optimizerEps',
  'targetReturn',
] as const satisfies readonly (keyof TrainConfig)[];
export type AgentField = (typeof AGENT_FIELDS)[number];
export type AgentSettings = Partial<Pick<TrainConfig, AgentField>>;

/** Agent a's seed: its own setting, or seed + a. */
export function agentSeed(config: Pick<TrainConfig, 'seed' | 'agents'>, agent: number): number {
  return (config.agents?.[agent]?.seed ?? config.seed + agent) >>> 0;
}

/** The config agent a trains with: the shared one with its settings applied (numAgents 1, no agents list). */
export function agentConfig(config: TrainConfig, agent: number): TrainConfig {
  const { agents, ...shared } = config;
  return { ...shared, ...agents?.[agent], seed: agentSeed(config, agent), numAgents: 1 };
}

interface FieldBase {
  doc: string;
}
export type FieldSpec =
  | (FieldBase & { kind: 'choice'; choices: readonly string[]; default: string })
  | (FieldBase & { kind: 'int'; min: number; max?: number; default: number })
  | (FieldBase & { kind: 'float'; min: number; max?: number; minExclusive?: boolean; default: number })
  | (FieldBase & { kind: 'optionalFloat'; default: null })
  | (FieldBase & { kind: 'netArch'; default: null })
  | (FieldBase & { kind: 'bool'; default: boolean });

/** The config's fields that are options (flags, controls, table rows): all but the per-agent list. */
export type ConfigField = Exclude<keyof TrainConfig, 'agents'>;

export const CONFIG_SCHEMA: { [K in ConfigField]: FieldSpec } = {
  env: {
    kind: 'choice',
    // Every id of the registry, read when asked: a user's env registered at run time is a valid choice too.
    get choices() {
      return envIds();
    },
    default: 'CartPole-v1',
    doc: `env id: ${BUILTIN_ENV_IDS.join(', ')}, or one registered with --env-module (README "Envs")`,
  },
  algo: {
    kind: 'choice',
    choices: ['a2c', 'reinforce', 'qac', 'tdac', 'ppo'],
    default: 'a2c',
    doc: 'a2c: n-step/GAE advantage; reinforce: Monte-Carlo return minus V(s); qac: Q(s,a) critic (SARSA); tdac: one-step TD error; ppo: clipped surrogate over epochs of shuffled minibatches (CleanRL)',
  },
  seed: { kind: 'int', min: 0, max: 0xffffffff, default: 1, doc: 'seeds initialisation, resets and action sampling' },
  numEnvs: { kind: 'int', min: 1, default: 16, doc: 'N: environments stepped in parallel on the GPU' },
  numAgents: {
    kind: 'int',
    min: 1,
    max: 1024,
    default: 1,
    doc: 'G: independent agents trained side by side in the same dispatches, agent a seeded with seed + a (numEnvs envs each)',
  },
  nSteps: { kind: 'int', min: 1, max: 4096, default: 8, doc: 'T: steps per env per update (rollout length; reinforce defaults to 64)' },
  totalSteps: { kind: 'int', min: 1, default: 5_000_000, doc: 'stop after this many env steps' },
  targetReturn: {
    kind: 'optionalFloat',
    default: null,
    doc: "stop once the mean return of the last 100 episodes reaches this (default: the env's threshold; none for Pendulum-v1: train to total-steps)",
  },
  stopOnTarget: {
    kind: 'bool',
    default: true,
    doc: 'stop once every agent reached the target (false: train to total-steps, still recording when each agent reached it)',
  },
  hidden: {
    kind: 'int',
    min: 1,
    max: 65536,
    default: 64,
    doc: 'H: hidden units of the actor and of the critic (one hidden layer each; the seed used 256); shorthand for --net-arch H',
  },
  netArch: {
    kind: 'netArch',
    default: null,
    doc: 'hidden layers, input to output, as Stable-Baselines3\'s net_arch: "64,64" for both networks, or "pi=64,64/vf=256,256" for each; any depth; overrides --hidden',
  },
  activation: { kind: 'choice', choices: ['tanh', 'relu'], default: 'tanh', doc: 'hidden activation (the seed used relu)' },
  sharedTrunk: { kind: 'bool', default: false, doc: 'one hidden layer shared by actor and critic (the seed keeps them separate)' },
  init: { kind: 'choice', choices: ['orthogonal', 'pytorch'], default: 'orthogonal', doc: "orthogonal (SB3/CleanRL) or PyTorch's default Linear init" },
  logStdInit: { kind: 'float', min: -20, max: 2, default: 0, doc: "a Gaussian policy's initial log standard deviation, every action dimension (SB3's log_std_init; 0: σ = 1)" },
  optimizer: { kind: 'choice', choices: ['adam', 'rmsprop'], default: 'adam', doc: 'optimizer, with PyTorch semantics' },
  learningRate: { kind: 'float', min: 0, minExclusive: true, max: 1, default: 3e-3, doc: 'optimizer step size' },
  lrSchedule: { kind: 'choice', choices: ['constant', 'linear'], default: 'constant', doc: 'learning rate over training: constant, or linear decay to 0 at total-steps' },
  gamma: { kind: 'float', min: 0, max: 1, default: 0.99, doc: 'discount factor' },
  gaeLambda: { kind: 'float', min: 0, max: 1, default: 0.95, doc: 'GAE lambda (1: plain n-step A2C returns); a2c and ppo' },
  entCoef: { kind: 'float', min: 0, default: 0.0, doc: 'entropy bonus coefficient (subtracted from the loss)' },
  vfCoef: { kind: 'float', min: 0, default: 0.5, doc: 'value loss coefficient' },
  maxGradNorm: { kind: 'float', min: 0, default: 0.5, doc: 'clip the global gradient norm to this (0: no clipping)' },
  normalizeAdvantage: { kind: 'bool', default: true, doc: 'normalize advantages over the batch (mean 0, std 1); ppo: over each minibatch' },
  updateEpochs: { kind: 'int', min: 1, max: 1000, default: 4, doc: 'ppo: passes over the rollout per update' },
  numMinibatches: { kind: 'int', min: 1, max: 65536, default: 4, doc: 'ppo: minibatches per epoch (must divide num-envs × n-steps), shuffled on the GPU' },
  clipCoef: { kind: 'float', min: 0, default: 0.2, doc: 'ppo: clip the probability ratio to [1 − c, 1 + c]' },
  clipVloss: { kind: 'bool', default: true, doc: "ppo: clip the value loss around the rollout's values too" },
  targetKl: { kind: 'optionalFloat', default: null, doc: "ppo: stop an update's epochs once the approximate KL exceeds this (default: never)" },
  normalizeObservations: {
    kind: 'bool',
    default: false,
    doc: "VecNormalize: observations scaled by their running mean and variance (merged on the GPU after each update), clipped to ±10",
  },
  normalizeRewards: {
    kind: 'bool',
    default: false,
    doc: 'VecNormalize: rewards divided by the running std of a discounted return that restarts at every episode end, clipped to ±10',
  },
  adamBeta1: { kind: 'float', min: 0, max: 1, default: 0.9, doc: "Adam's beta1" },
  adamBeta2: { kind: 'float', min: 0, max: 1, default: 0.999, doc: "Adam's beta2" },
  rmspropAlpha: { kind: 'float', min: 0, max: 1, default: 0.99, doc: "RMSprop's smoothing constant alpha" },
  optimizerEps: { kind: 'float', min: 0, minExclusive: true, max: 1, default: 1e-8, doc: "epsilon of the optimizer's denominator" },
  metricsEvery: { kind: 'int', min: 1, max: 1000, default: 4, doc: 'read metrics back every K updates (asynchronously)' },
  evalEpisodes: { kind: 'int', min: 0, max: 100_000, default: 100, doc: 'fresh episodes evaluated after training (0: none)' },
};

/**
 * Defaults that differ by algorithm, applied wherever the caller left the field unset. REINFORCE
 * learns only from episodes that end inside a rollout, so it needs rollouts longer than T = 8.
 */
export const ALGO_DEFAULTS: Partial<Record<Algo, Partial<TrainConfig>>> = {
  reinforce: { nSteps: 64 },
  // CleanRL's ppo.py (4 epochs of 4 minibatches, clip 0.2, entropy 0.01, the learning rate annealed) with 16 envs
  // of 32 steps and lr 1e-3: CartPole-v1 solved in ~130k steps (3 seeds on lavapipe), where CleanRL's 4 × 128
  // at 2.5e-4 reached ~250 in 300k and 64 envs × 32 only ~200.
  ppo: { numEnvs: 16, nSteps: 32, learningRate: 1e-3, lrSchedule: 'linear', entCoef: 0.01, totalSteps: 500_000 },
};

/**
 * Per-env presets, like rl-baselines3-zoo's hyper-parameter files: what `train --env X` uses unless a flag
 * or config field says otherwise, measured to learn (README "Presets", `webgpu-rl bench presets`).
 * ENV_ALGO_DEFAULTS refine them per algorithm where one needs something else.
 */
export const ENV_DEFAULTS: Record<string, Partial<TrainConfig>> = {
  // The schema's defaults reach −100 within ~40k steps (5/5 seeds); normalizing observations slowed it 4x.
  'Acrobot-v1': { totalSteps: 500_000 },
  // Hard exploration: only the statistics of VecNormalize (observations and rewards, as the zoo's A2C) find
  // the goal; annealing the learning rate keeps the policy there. −120 in 5/5 seeds, ~230k steps (median).
  'MountainCar-v0': { normalizeObservations: true, normalizeRewards: true, lrSchedule: 'linear', totalSteps: 2_000_000 },
  // Found by a sweep of 144 agents on the H200 (docs/sweep/presets): SB3's 64,64 tanh networks, VecNormalize,
  // a short horizon (γ 0.95, λ 0.9) and 32 envs; σ starts at 1 (log_std 0 beat −1 and −2).
  'Pendulum-v1': {
    netArch: '64,64', numEnvs: 32, nSteps: 8, learningRate: 1e-3, gamma: 0.95, gaeLambda: 0.9, maxGradNorm: 0.5,
    normalizeObservations: true, normalizeRewards: true, totalSteps: 1_000_000, targetReturn: -250,
  },
  // The same sweep's 192 agents: nearly every setting reaches ~93 within 100k steps; this one sits in the middle.
  'MountainCarContinuous-v0': {
    netArch: '64,64', numEnvs: 8, nSteps: 16, learningRate: 1e-3, gamma: 0.999, maxGradNorm: 0.5,
    normalizeObservations: true, normalizeRewards: true, totalSteps: 500_000,
  },
};
export const ENV_ALGO_DEFAULTS: Record<string, Partial<Record<Algo, Partial<TrainConfig>>>> = {
  // CleanRL's ppo_continuous_action.py shape (rollouts of 2048 per agent, 10 epochs, no entropy bonus) on the
  // env's preset (32 envs, γ 0.95, λ 0.9, VecNormalize): 16 seeds of 16 reach −250, median 81,920 steps (max 122,880;
  // bench presets, lavapipe), where PPO's own defaults there (8-step rollouts, 4 × 4 minibatches, entropy 0.01) took
  // one seed to 986k steps.
  // REINFORCE learns only from episodes that end inside a rollout: the env's 8-step rollouts hold the last 8 steps
  // of a 200-step episode once in 25 updates; 200 steps hold every env's whole episode (Pendulum never terminates).
  'Pendulum-v1': { ppo: { nSteps: 64, updateEpochs: 10, numMinibatches: 8, entCoef: 0 }, reinforce: { nSteps: 200 } },
};

/** The defaults of an algorithm on an env: the schema's, the algorithm's, the env's preset, the env × algorithm one. */
export function defaultConfig(algo: Algo = 'a2c', env: string = CONFIG_SCHEMA.env.default as string): TrainConfig {
  const base = Object.fromEntries(Object.entries(CONFIG_SCHEMA).map(([k, spec]) => [k, spec.default])) as unknown as TrainConfig;
  return { ...base, ...ALGO_DEFAULTS[algo], ...ENV_DEFAULTS[env], ...ENV_ALGO_DEFAULTS[env]?.[algo], algo, env };
}

/** The defaults for `partial.algo` and `partial.env`, overridden by every field `partial` sets (no validation). */
export function resolveConfig(partial: Partial<TrainConfig>): TrainConfig {
  return { ...defaultConfig(partial.algo ?? 'a2c', partial.env), ...partial };
}

export class ConfigError extends Error {}

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Parses and checks one field from text (a CLI flag or a control); throws ConfigError with one line. */
export function parseField<K extends ConfigField>(name: K, text: string): TrainConfig[K] {
  const spec = CONFIG_SCHEMA[name];
  const flag = `--${kebab(name)}`;
  switch (spec.kind) {
    case 'choice':
      if (!spec.choices.includes(text)) throw new ConfigError(`${flag} must be one of ${spec.choices.join(', ')}; got "${text}"`);
      return text as TrainConfig[K];
    case 'netArch':
      // 'none': one layer of --hidden (the default). An empty value is a mistake, not a default.
      if (text === 'none') return null as TrainConfig[K];
      parseNetArch(text);
      return text.replace(/\s+/g, '') as TrainConfig[K];
    case 'bool':
      if (['true', '1', 'yes', ''].includes(text)) return true as TrainConfig[K];
      if (['false', '0', 'no'].includes(text)) return false as TrainConfig[K];
      throw new ConfigError(`${flag} must be true or false; got "${text}"`);
    default: {
      const value = Number(text.replace(/_/g, ''));
      if (text.trim() === '' || !Number.isFinite(value)) throw new ConfigError(`${flag} must be a finite number; got "${text}"`);
      return checkNumber(name, value) as TrainConfig[K];
    }
  }
}

function checkNumber(name: ConfigField, value: number): number {
  const spec = CONFIG_SCHEMA[name];
  const flag = `--${kebab(name)}`;
  if (spec.kind !== 'int' && spec.kind !== 'float' && spec.kind !== 'optionalFloat') return value;
  if (!Number.isFinite(value)) throw new ConfigError(`${flag} must be a finite number; got ${value}`);
  if (spec.kind === 'int' && !Number.isInteger(value)) throw new ConfigError(`${flag} must be an integer; got ${value}`);
  if (spec.kind === 'optionalFloat') return value;
  const exclusive = spec.kind === 'float' && spec.minExclusive;
  if (exclusive ? value <= spec.min : value < spec.min) throw new ConfigError(`${flag} must be ${exclusive ? '>' : '>='} ${spec.min}; got ${value}`);
  if ('max' in spec && spec.max !== undefined && value > spec.max) throw new ConfigError(`${flag} must be <= ${spec.max}; got ${value}`);
  return value;
}

/** Checks a whole config (e.g. from config.json or a library caller); returns a complete copy. */
export function validateConfig(partial: Partial<Record<keyof TrainConfig, unknown>>): TrainConfig {
  const algo = CONFIG_SCHEMA.algo.kind === 'choice' && CONFIG_SCHEMA.algo.choices.includes(partial.algo as string) ? (partial.algo as Algo) : 'a2c';
  const env = CONFIG_SCHEMA.env.kind === 'choice' && CONFIG_SCHEMA.env.choices.includes(partial.env as string) ? (partial.env as string) : undefined;
  const config = defaultConfig(algo, env);
  for (const [key, raw] of Object.entries(partial)) {
    if (key === 'agents' && raw !== undefined) {
      config.agents = validateAgents(raw);
      continue;
    }
    if (!(key in CONFIG_SCHEMA)) throw new ConfigError(`unknown config field "${key}"`);
    const name = key as ConfigField;
    const spec = CONFIG_SCHEMA[name];
    if (raw === null && spec.kind === 'optionalFloat') {
      (config as unknown as Record<string, unknown>)[name] = null;
      continue;
    }
    if (spec.kind === 'netArch') {
      if (raw !== null && typeof raw !== 'string') throw new ConfigError(`config field "${key}" must be a string like "64,64" or null; got ${JSON.stringify(raw)}`);
      (config as unknown as Record<string, unknown>)[name] = raw === null ? null : parseField('netArch', raw as string);
      continue;
    }
    const expected = spec.kind === 'choice' ? 'string' : spec.kind === 'bool' ? 'boolean' : 'number';
    if (typeof raw !== expected) throw new ConfigError(`config field "${key}" must be a ${expected}; got ${JSON.stringify(raw)}`);
    if (spec.kind === 'choice' && !spec.choices.includes(raw as string)) throw new ConfigError(`--${kebab(name)} must be one of ${spec.choices.join(', ')}; got "${raw}"`);
    (config as unknown as Record<string, unknown>)[name] = expected === 'number' ? checkNumber(name, raw as number) : raw;
  }
  if (config.agents && config.agents.length !== config.numAgents) {
    throw new ConfigError(`config field "agents" lists ${config.agents.length} agents' settings; numAgents is ${config.numAgents}`);
  }
  // (Agents whose packed weights overflow the fused kernels' buffer take the layered path: no check here.)
  checkTrainable(config);
  checkPpo(config);
  return config;
}

/** The most PPO optimizer steps (epochs × minibatches) one update encodes. */
export const MAX_PPO_STEPS = 4096;

/** PPO's settings that no single field can check: the minibatches split the batch, a KL target is positive. */
export function checkPpo(config: Pick<TrainConfig, 'algo' | 'numEnvs' | 'nSteps' | 'updateEpochs' | 'numMinibatches' | 'targetKl' | 'agents'>): void {
  const targets = [config.targetKl, ...(config.agents ?? []).map((a) => a.targetKl)];
  for (const kl of targets) {
    if (kl !== null && kl !== undefined && !(kl > 0)) throw new ConfigError(`--target-kl must be > 0 (or none); got ${kl}`);
  }
  if (config.algo !== 'ppo') return;
  // Every minibatch step of an update is encoded into its one submit, with a parameter record each.
  if (config.updateEpochs * config.numMinibatches > MAX_PPO_STEPS) {
    throw new ConfigError(`--update-epochs ${config.updateEpochs} × --num-minibatches ${config.numMinibatches} is more than ${MAX_PPO_STEPS} optimizer steps per update`);
  }
  const batch = config.numEnvs * config.nSteps;
  if (batch % config.numMinibatches !== 0) {
    const divisors = [];
    for (let d = 1; d <= Math.min(batch, 64); d++) if (batch % d === 0) divisors.push(d);
    throw new ConfigError(
      `--num-minibatches ${config.numMinibatches} does not divide the batch of --num-envs ${config.numEnvs} × --n-steps ${config.nSteps} = ${batch} rows (divisors up to 64: ${divisors.join(', ')})`,
    );
  }
}

/** Checks per-agent settings: an array of objects of AGENT_FIELDS, each value valid for its field. */
function validateAgents(raw: unknown): AgentSettings[] {
  if (!Array.isArray(raw)) throw new ConfigError('config field "agents" must be an array of per-agent settings');
  return raw.map((entry, a) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(`agents[${a}] must be an object`);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(entry)) {
      if (!(AGENT_FIELDS as readonly string[]).includes(key)) throw new ConfigError(`agents[${a}]: "${key}" cannot differ per agent (fields that can: ${AGENT_FIELDS.join(', ')})`);
      const name = key as AgentField;
      const spec = CONFIG_SCHEMA[name];
      if (value === null && spec.kind === 'optionalFloat') {
        out[name] = null;
        continue;
      }
      const expected = spec.kind === 'choice' ? 'string' : spec.kind === 'bool' ? 'boolean' : 'number';
      if (typeof value !== expected) throw new ConfigError(`agents[${a}].${key} must be a ${expected}; got ${JSON.stringify(value)}`);
      if (spec.kind === 'choice' && !spec.choices.includes(value as string)) throw new ConfigError(`agents[${a}].${key} must be one of ${spec.choices.join(', ')}; got "${value}"`);
      out[name] = expected === 'number' ? checkNumber(name, value as number) : value;
    }
    return out as AgentSettings;
  });
}

/** The README's option table, generated from CONFIG_SCHEMA (test/readme.test.ts keeps them in sync). */
export function configTableMarkdown(): string {
  const envAlgoPresets = Object.fromEntries(
    Object.entries(ENV_ALGO_DEFAULTS).flatMap(([env, byAlgo]) => Object.entries(byAlgo).map(([algo, d]) => [`${env} with ${algo}`, d])),
  );
  const rows = Object.entries(CONFIG_SCHEMA).map(([name, spec]) => {
    const range = 'min' in spec ? `${'minExclusive' in spec && spec.minExclusive ? '>' : '≥'} ${spec.min}${'max' in spec && spec.max !== undefined ? `, ≤ ${spec.max}` : ''}` : '';
    const values =
      spec.kind === 'choice' ? spec.choices.join(' \\| ') : spec.kind === 'bool' ? 'true \\| false' : spec.kind === 'netArch' ? 'W,W,… \\| pi=W,…/vf=W,…' : `${spec.kind === 'int' ? 'integer' : 'number'}${range ? ` ${range}` : ''}`;
    const presets = (defaults: Record<string, Partial<TrainConfig> | undefined>) =>
      Object.entries(defaults)
        .filter(([, d]) => d && name in d)
        .map(([key, d]) => `; ${key}: ${String((d as Record<string, unknown>)[name])}`)
        .join('');
    const fallback = spec.kind === 'netArch' ? 'one layer of `hidden`' : "env's threshold";
    return `| \`--${kebab(name)}\` | \`${name}\` | ${values} | ${spec.default ?? fallback}${presets(ALGO_DEFAULTS)}${presets(ENV_DEFAULTS)}${presets(envAlgoPresets)} | ${spec.doc} |`;
  });
  return ['| flag | config field | values | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** Rows of vec4 in the uniform buffer that carries every agent's packed weights (shaders/network.wgsl). */
export const PACKED_WEIGHT_ROWS = 4096;

/** The largest Discrete action space the categorical head holds (logits ride in one vec4). */
export const MAX_DISCRETE_ACTIONS = 4;

/** The packed-weight layout of shaders/train_params.wgsl: vec4s per hidden unit and per agent. */
export function packedLayout(shape: Pick<NetShape, 'obsSize' | 'numActions' | 'valueOutputs' | 'hiddenSize'>) {
  const obsVec4s = Math.ceil(shape.obsSize / 4);
  const actorRows = shape.numActions === 4 ? 2 : 1;
  const criticRows = shape.valueOutputs === 4 ? 2 : 1;
  const unitVec4s = 2 * obsVec4s + actorRows + criticRows;
  return { obsVec4s, actorRows, criticRows, unitVec4s, stride: unitVec4s * shape.hiddenSize + 2 };
}

/** The most dimensions of a Box action (the Gaussian head's means ride in one vec4). */
export const MAX_BOX_DIMENSIONS = 4;

/** Whether the trainer can train this config: its action space, algorithm and network. ConfigError otherwise. */
export function checkTrainable(
  config: Pick<TrainConfig, 'env'> & Partial<Pick<TrainConfig, 'algo' | 'netArch' | 'sharedTrunk' | 'hidden' | 'activation'>>,
  spec: EnvSpec = envSpec(config.env),
): void {
  const space = spec.actionSpace;
  if (space.type === 'Box') {
    if (space.shape.length !== 1 || space.shape[0] > MAX_BOX_DIMENSIONS) {
      throw new ConfigError(`--env ${config.env} has a Box action of shape [${space.shape}]; the Gaussian policy holds at most ${MAX_BOX_DIMENSIONS} dimensions (its means ride in one vec4)`);
    }
    if (config.algo === 'qac') {
      throw new ConfigError(`--algo qac learns Q(s, a) for each of a Discrete env's actions; --env ${config.env} has continuous (Box) actions: use a2c, ppo, reinforce or tdac`);
    }
  } else if (space.n > MAX_DISCRETE_ACTIONS) {
    throw new ConfigError(`--env ${config.env} has Discrete(${space.n}) actions; the categorical policy holds at most ${MAX_DISCRETE_ACTIONS} (its logits ride in one vec4)`);
  }
  if (config.netArch) {
    const { pi, vf } = parseNetArch(config.netArch);
    if (config.sharedTrunk && pi.join() !== vf.join()) throw new ConfigError(`--shared-trunk needs the same hidden layers for actor and critic; --net-arch gives pi=${pi} and vf=${vf}`);
  }
}

/** Whether the fused kernels' packed weights of all agents fit their one 64 KiB uniform buffer (G × stride ≤ 4096 vec4s). */
export function packedFits(config: Pick<TrainConfig, 'numAgents' | 'hidden' | 'env' | 'algo' | 'activation' | 'sharedTrunk'> & Partial<Pick<TrainConfig, 'netArch'>>): boolean {
  return config.numAgents * packedLayout(netShapeOf(config)).stride <= PACKED_WEIGHT_ROWS;
}

/** The packed weights of all agents share one 64 KiB uniform buffer: G × stride ≤ 4096 vec4s (the fused path only). */
export function checkAgentsFit(config: Pick<TrainConfig, 'numAgents' | 'hidden' | 'env' | 'algo' | 'activation' | 'sharedTrunk'>): void {
  const shape = netShapeOf(config);
  const { stride, unitVec4s } = packedLayout(shape);
  if (config.numAgents * stride > PACKED_WEIGHT_ROWS) {
    const maxHidden = Math.floor((Math.floor(PACKED_WEIGHT_ROWS / config.numAgents) - 2) / unitVec4s);
    throw new ConfigError(
      `--num-agents ${config.numAgents} with --hidden ${config.hidden} does not fit on ${config.env}: the packed weights of all agents share one 64 KiB uniform buffer ` +
        `(${PACKED_WEIGHT_ROWS} vec4s, ${stride} per agent); ` +
        (maxHidden >= 1 ? `with ${config.numAgents} agent(s) at most --hidden ${maxHidden}, ` : '') +
        `with --hidden ${config.hidden} at most ${Math.floor(PACKED_WEIGHT_ROWS / stride)} agents fit`,
    );
  }
}

/** The largest width of one hidden layer that the config validation accepts (an adapter may allow less: the trainer says so). */
export const MAX_HIDDEN_WIDTH = 65536;

/**
 * Stable-Baselines3's net_arch as text: "64,64" (both networks) or "pi=64,64/vf=256,256" (each; the order
 * of the two parts is free). Every width a positive integer; at least one layer each. ConfigError otherwise.
 */
export function parseNetArch(text: string): { pi: number[]; vf: number[] } {
  const widths = (part: string, what: string) => {
    const items = part.split(',').map((t) => t.trim());
    if (items.length === 1 && items[0] === '') throw new ConfigError(`--net-arch: ${what} needs at least one layer width, like 64,64; got "${part}"`);
    if (items.some((t) => t === '')) throw new ConfigError(`--net-arch: an empty layer width in "${text}"`);
    return items.map((t) => {
      const n = Number(t);
      if (!/^\d+$/.test(t) || !Number.isInteger(n) || n < 1) throw new ConfigError(`--net-arch: layer widths must be positive integers; got "${t}" in "${text}"`);
      if (n > MAX_HIDDEN_WIDTH) throw new ConfigError(`--net-arch: a layer of ${n} units is more than ${MAX_HIDDEN_WIDTH}`);
      return n;
    });
  };
  const compact = text.replace(/\s+/g, '');
  if (compact === '') throw new ConfigError('--net-arch must list hidden layer widths, like 64,64 or pi=64,64/vf=256,256');
  if (!compact.includes('=')) {
    const both = widths(compact, 'the network');
    return { pi: both, vf: both };
  }
  const parts = Object.fromEntries(
    compact.split('/').map((part) => {
      const [key, value, ...rest] = part.split('=');
      if (value === undefined || rest.length > 0 || (key !== 'pi' && key !== 'vf')) throw new ConfigError(`--net-arch: "${part}" is not pi=WIDTHS or vf=WIDTHS (e.g. pi=64,64/vf=256,256)`);
      return [key, widths(value, key)];
    }),
  );
  if (!parts.pi || !parts.vf) throw new ConfigError(`--net-arch: give both pi=… and vf=… (e.g. pi=64,64/vf=64,64); got "${text}"`);
  return { pi: parts.pi, vf: parts.vf };
}

/** The network a config trains: the env's observation size and actions; Q(s, ·) for qac. */
export function netShapeOf(config: Pick<TrainConfig, 'hidden' | 'algo' | 'activation' | 'sharedTrunk' | 'env'> & Partial<Pick<TrainConfig, 'netArch'>>, spec: EnvSpec = envSpec(config.env)): NetShape {
  const box = spec.actionSpace.type === 'Box';
  const numActions = spec.actionSpace.type === 'Discrete' ? spec.actionSpace.n : spec.actionSpace.shape[0];
  const arch = config.netArch ? parseNetArch(config.netArch) : { pi: [config.hidden], vf: [config.hidden] };
  return {
    obsSize: spec.observationSize,
    hiddenSize: arch.pi[0],
    actorHidden: arch.pi,
    criticHidden: arch.vf,
    numActions,
    valueOutputs: config.algo === 'qac' ? numActions : 1,
    activation: config.activation,
    sharedTrunk: config.sharedTrunk,
    policy: box ? 'gaussian' : 'categorical',
  };
}
