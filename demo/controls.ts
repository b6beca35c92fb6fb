/**
 * The training controls, generated from CONFIG_SCHEMA (src/config.ts): one control per field, named by
 * its CLI flag, its doc as the tooltip, checked by the same parseField the CLI uses. URL parameters use
 * the same flag names (`?num-envs=64&learning-rate=0.003`), so a link reproduces a run.
 */
import { CONFIG_SCHEMA, ConfigError, defaultConfig, validateConfig, type Algo, type TrainConfig } from '../src/browser.ts';
// Not (yet) exported by the library's entry points; the CLI uses them from here too.
import { kebab, parseField } from '../src/config.ts';

type Field = keyof TrainConfig;

/**
 * The library's defaults with more envs: 256 × 8 steps fill the grid and, on a GPU, cost about as much
 * per update as 16 × 8; on lavapipe they solved CartPole-v1 in 650-1250 updates for seeds 1-3, and one
 * seed in four needed more than 3 M steps, hence the larger step budget.
 */
export const DEMO_DEFAULTS: Partial<TrainConfig> = { numEnvs: 256, totalSteps: 20_000_000 };

/** The demo's defaults for an algorithm: the library's per-algorithm defaults, then DEMO_DEFAULTS. */
export function demoDefaults(algo: Algo = 'a2c'): TrainConfig {
  return { ...defaultConfig(algo), ...DEMO_DEFAULTS };
}

/** Shown first; the rest fold into "more settings". */
const PRIMARY: Field[] = ['env', 'algo', 'numEnvs', 'nSteps', 'learningRate', 'entCoef', 'hidden', 'seed'];
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
  if (CONFIG_SCHEMA[field].kind === 'optionalFloat' && text.trim() === '') return null as TrainConfig[K];
  return parseField(field, text.trim());
}

export class ConfigForm {
  private readonly inputs = new Map<Field, HTMLInputElement | HTMLSelectElement>();
  private readonly message: HTMLElement;
  /** The algorithm the other fields' defaults currently follow. */
  private algo: Algo = 'a2c';

  /** `defaults(algo)`: fields still at one algorithm's default follow the next one's when algo changes. */
  constructor(container: HTMLElement, initial: TrainConfig, private readonly defaults: (algo: Algo) => TrainConfig, private readonly onChange: () => void) {
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

  /** The whole config, or a ConfigError naming the first bad field (also shown under the form). */
  read(): TrainConfig {
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
    return validateConfig(partial);
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
    this.algo = config.algo;
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

  private followDefaults(from: Algo, to: Algo) {
    const [before, after] = [this.defaults(from), this.defaults(to)];
    for (const [field, input] of this.inputs) {
      if (field === 'algo' || !(input instanceof HTMLInputElement) || input.type === 'checkbox') continue;
      if (input.value === formatValue(field, before[field])) input.value = formatValue(field, after[field]);
    }
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
        input.inputMode = spec.kind === 'int' ? 'numeric' : 'decimal';
        input.spellcheck = false;
        if (spec.kind === 'optionalFloat') input.placeholder = 'default';
      }
    }
    if (field === 'algo') {
      input.addEventListener('change', () => {
        this.followDefaults(this.algo, input.value as Algo);
        this.algo = input.value as Algo;
      });
    }
    input.name = kebab(field);
    input.id = `config-${kebab(field)}`;
    // valid() re-reads the form, so a bad value is flagged (and a fixed one cleared) on every change.
    input.addEventListener('change', () => this.valid() && this.onChange());
    this.inputs.set(field, input);
    label.append(name, input);
    return label;
  }
}

/**
 * Config fields from URL parameters named by CLI flag; returns the config and one line per bad
 * parameter (the rest still apply). Parameters that are not config fields are ignored.
 */
export function configFromUrl(params: URLSearchParams, defaults: (algo: Algo) => TrainConfig): { config: TrainConfig; errors: string[] } {
  const errors: string[] = [];
  let algo: Algo = 'a2c';
  try {
    algo = parseField('algo', params.get('algo') ?? 'a2c');
  } catch (error) {
    errors.push((error as Error).message);
  }
  const config = defaults(algo);
  for (const field of FIELDS) {
    const text = params.get(kebab(field));
    if (text === null || field === 'algo') continue;
    try {
      (config as Record<Field, unknown>)[field] = parseText(field, text);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error.message);
    }
  }
  return { config, errors };
}

/** URL parameters for the fields that differ from `base` (non-config parameters are kept). */
export function configToUrl(config: TrainConfig, base: TrainConfig, keep: URLSearchParams): string {
  const params = new URLSearchParams(keep);
  for (const field of FIELDS) {
    if (config[field] === base[field]) params.delete(kebab(field));
    else params.set(kebab(field), formatValue(field, config[field]));
  }
  const text = params.toString();
  return text ? `?${text}` : location.pathname;
}
