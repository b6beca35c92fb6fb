/**
 * The training controls, generated from CONFIG_SCHEMA (src/config.ts): one control per field, named by
 * its CLI flag, its doc as the tooltip, checked by the same parseField the CLI uses. URL parameters use
 * the same flag names (`?num-envs=64&learning-rate=0.003`), so a link reproduces a run.
 */
import { CONFIG_SCHEMA, ConfigError, defaultConfig, validateConfig, type Algo, type TrainConfig } from '../src/browser.ts';
// Not (yet) exported by the library's entry points; the CLI uses them from here too.
import { ENV_ALGO_DEFAULTS, ENV_DEFAULTS, kebab, parseField, type ConfigField } from '../src/config.ts';

type Field = ConfigField;

/**
 * The library's defaults (with the env's preset) with more envs: 256 × 8 steps fill the grid and, on a GPU,
 * cost about as much per update as 16 × 8; on lavapipe they solved CartPole-v1 in 650-1250 updates for
 * seeds 1-3, and one seed in four needed more than 3 M steps, hence the larger step budget. Over the
 * presets, seed 1 on lavapipe: Acrobot-v1 solved in 108 updates (221k steps), MountainCar-v0 (its
 * learning rate then decays over 20 M steps, not 2 M) in 1,492 updates (3.0 M steps).
 */
export const DEMO_DEFAULTS: Partial<TrainConfig> = { numEnvs: 256, totalSteps: 20_000_000 };

const DEFAULT_ENV = CONFIG_SCHEMA.env.default as string;

/**
 * The demo's defaults for an algorithm on an env: the library's (with the env's preset), then DEMO_DEFAULTS,
 * except a step budget the env's preset sets itself (a preset's learning-rate schedule decays over it).
 */
export function demoDefaults(algo: Algo = 'a2c', env: string = DEFAULT_ENV): TrainConfig {
  const { totalSteps, ...rest } = DEMO_DEFAULTS;
  const presetBudget = ENV_DEFAULTS[env]?.totalSteps !== undefined || ENV_ALGO_DEFAULTS[env]?.[algo]?.totalSteps !== undefined;
  return { ...defaultConfig(algo, env), ...rest, ...(presetBudget ? {} : { totalSteps }) };
}

export type Defaults = (algo: Algo, env: string) => TrainConfig;

/** Shown first; the rest fold into "more settings". */
const PRIMARY: Field[] = ['env', 'algo', 'numEnvs', 'nSteps', 'learningRate', 'entCoef', 'hidden', 'netArch', 'seed'];
/** CLI-only: the demo evaluates by watching the policy instead of running fresh evaluation episodes. */
const HIDDEN: Field[] = ['evalEpisodes'];

const FIELDS = (Object.keys(CONFIG_SCHEMA) as Field[]).filter((f) => !HIDDEN.includes(f));

function formatValue(field: Field, value: TrainConfig[Field]): string {
  if (value === null) return '';
  if (CONFIG_SCHEMA[field].kind === 'float' && typeof value === 'number' && value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) return value.toExponential();
  return String(value);
}

/** Parses one field's text; an empty optional field means "unset" (null). */
function parseText<K extends Field>(field: K, text: string): TrainConfig[K] {
  if ((CONFIG_SCHEMA[field].kind === 'optionalFloat' || CONFIG_SCHEMA[field].kind === 'netArch') && text.trim() === '') return null as TrainConfig[K];
  return parseField(field, text.trim());
}

export class ConfigForm {
  private readonly inputs = new Map<Field, HTMLInputElement | HTMLSelectElement>();
  private readonly message: HTMLElement;
  /** The algorithm and env the other fields' defaults currently follow. */
  private algo: Algo = 'a2c';
  private env: string = DEFAULT_ENV;

  /**
   * `defaults(algo, env)`: fields still at one (algo, env)'s default follow the next one's when algo or env
   * changes. `onChange` after any valid change; `onEnvChange` after the env changed (the page resets then).
   */
  constructor(
    container: HTMLElement,
    initial: TrainConfig,
    private readonly defaults: Defaults,
    private readonly onChange: () => void,
    private readonly onEnvChange: (env: string) => void = () => {},
  ) {
    const primary = document.createElement('div');
    primary.className = 'fields';
    const more = document.createElement('details');
    more.innerHTML = '<summary>more settings</summary>';
    const moreFields = document.createElement('div');
    moreFields.className = 'fields';
    more.append(moreFields);
    for (const field of FIELDS) (PRIMARY.includes(field) ? primary : moreFields).append(this.control(field));
    this.message = document.createElement('p');
    this.message.className = 'field-error';
    this.message.setAttribute('role', 'alert');
    container.append(primary, more, this.message);
    this.set(initial);
  }

  /**
   * The whole config, or a ConfigError (also shown under the form): the first bad field, or what the whole
   * config cannot train (a layer too wide, a shared trunk over unequal layers, qac on a Box env).
   */
  read(): TrainConfig {
    const fields = this.fields();
    try {
      return validateConfig(fields);
    } catch (error) {
      if (error instanceof ConfigError) this.message.textContent = error.message;
      throw error;
    }
  }

  /**
   * Every field parsed on its own (each checked as its CLI flag is), without the checks of the whole
   * config: what the page shows an env with while it cannot be trained (validateConfig would refuse it).
   */
  readFields(): TrainConfig {
    return { ...this.defaults(this.algo, this.env), ...(this.fields() as Partial<TrainConfig>) };
  }

  private fields(): Partial<Record<Field, unknown>> {
    const partial: Partial<Record<Field, unknown>> = {};
    this.message.textContent = '';
    for (const [field, input] of this.inputs) {
      input.classList.remove('invalid');
      try {
        partial[field] = input instanceof HTMLInputElement && input.type === 'checkbox' ? input.checked : parseText(field, input.value);
      } catch (error) {
        input.classList.add('invalid');
        this.message.textContent = (error as Error).message;
        throw error;
      }
    }
    return partial;
  }

  /** The env selected now (whatever the other fields hold). */
  get selectedEnv(): string {
    return this.inputs.get('env')!.value;
  }

  /** Selects env `id` (registered), the other fields following its defaults as when picked by hand. */
  selectEnv(id: string): void {
    this.refreshEnvChoices();
    this.inputs.get('env')!.value = id;
    this.followDefaults();
  }

  /** Rebuilds the env choices from the registry (CONFIG_SCHEMA reads it live), keeping the selection. */
  refreshEnvChoices(): void {
    const select = this.inputs.get('env') as HTMLSelectElement;
    const selected = select.value;
    const choices = CONFIG_SCHEMA.env.kind === 'choice' ? CONFIG_SCHEMA.env.choices : [];
    select.replaceChildren(...choices.map((id) => new Option(id, id)));
    select.value = choices.includes(selected) ? selected : DEFAULT_ENV;
  }

  /** Whether every control parses; flags the first bad one as read() does. */
  valid(): boolean {
    try {
      this.read();
      return true;
    } catch {
      return false;
    }
  }

  set(config: TrainConfig): void {
    this.refreshEnvChoices();
    this.algo = config.algo;
    this.env = config.env;
    for (const [field, input] of this.inputs) {
      if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = Boolean(config[field]);
      else input.value = formatValue(field, config[field]);
      input.classList.remove('invalid');
    }
    this.message.textContent = '';
  }

  setEnabled(enabled: boolean): void {
    for (const input of this.inputs.values()) input.disabled = !enabled;
  }

  /** Fields still at the defaults of (algo, env) take those of the (algo, env) now selected. */
  private followDefaults() {
    const algo = this.inputs.get('algo')!.value as Algo;
    const env = this.inputs.get('env')!.value;
    const [before, after] = [this.defaults(this.algo, this.env), this.defaults(algo, env)];
    for (const [field, input] of this.inputs) {
      if (field === 'algo' || field === 'env') continue;
      if (input instanceof HTMLInputElement && input.type === 'checkbox') {
        if (input.checked === before[field]) input.checked = Boolean(after[field]);
      } else if (input.value === formatValue(field, before[field])) input.value = formatValue(field, after[field]);
    }
    [this.algo, this.env] = [algo, env];
  }

  private control(field: Field): HTMLElement {
    const spec = CONFIG_SCHEMA[field];
    const label = document.createElement('label');
    label.title = spec.doc;
    const name = document.createElement('span');
    name.textContent = kebab(field);
    let input: HTMLInputElement | HTMLSelectElement;
    if (spec.kind === 'choice') {
      input = document.createElement('select');
      for (const choice of spec.choices) input.add(new Option(choice, choice));
    } else {
      input = document.createElement('input');
      if (spec.kind === 'bool') input.type = 'checkbox';
      else {
        input.type = 'text';
        input.inputMode = spec.kind === 'int' ? 'numeric' : spec.kind === 'netArch' ? 'text' : 'decimal';
        input.spellcheck = false;
        if (spec.kind === 'optionalFloat') input.placeholder = 'default';
        if (spec.kind === 'netArch') input.placeholder = 'one layer of hidden';
      }
    }
    if (field === 'algo' || field === 'env') input.addEventListener('change', () => this.followDefaults());
    input.name = kebab(field);
    input.id = `config-${kebab(field)}`;
    // valid() re-reads the form, so a bad value is flagged (and a fixed one cleared) on every change. A new
    // env resets the page instead (an env that cannot be trained is still shown: no validity check).
    if (field === 'env') input.addEventListener('change', () => this.onEnvChange(input.value));
    else input.addEventListener('change', () => this.valid() && this.onChange());
    this.inputs.set(field, input);
    label.append(name, input);
    return label;
  }
}

/**
 * Config fields from URL parameters named by CLI flag; returns the config and one line per bad
 * parameter (the rest still apply). Parameters that are not config fields are ignored.
 */
export function configFromUrl(params: URLSearchParams, defaults: Defaults): { config: TrainConfig; errors: string[] } {
  const errors: string[] = [];
  const first = <K extends 'algo' | 'env'>(field: K, fallback: TrainConfig[K]): TrainConfig[K] => {
    try {
      return parseField(field, params.get(field) ?? fallback);
    } catch (error) {
      errors.push((error as Error).message);
      return fallback;
    }
  };
  // The defaults follow the algorithm and the env, so those two come first.
  const config = defaults(first('algo', 'a2c'), first('env', DEFAULT_ENV));
  for (const field of FIELDS) {
    const text = params.get(kebab(field));
    if (text === null || field === 'algo' || field === 'env') continue;
    try {
      (config as Record<Field, unknown>)[field] = parseText(field, text);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error.message);
    }
  }
  return { config, errors };
}

/**
 * URL parameters for the fields that differ from `base` (the defaults of config's algo and env), and the
 * algo and env themselves where they are not the schema's defaults (non-config parameters are kept).
 */
export function configToUrl(config: TrainConfig, base: TrainConfig, keep: URLSearchParams): string {
  const params = new URLSearchParams(keep);
  for (const field of FIELDS) {
    const reference = field === 'algo' || field === 'env' ? CONFIG_SCHEMA[field].default : base[field];
    if (config[field] === reference) params.delete(kebab(field));
    else params.set(kebab(field), formatValue(field, config[field]));
  }
  const text = params.toString();
  return text ? `?${text}` : location.pathname;
}
