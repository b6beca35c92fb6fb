/**
 * A sweep's results: one row per agent (results.csv, results.jsonl) and the configurations ranked by the
 * median over seeds (summary.md). Pure: the rows come from training or from shard folders alike, so a merged
 * sweep writes the same bytes as a one-machine run.
 */
import type { SweepValue } from './sweep.ts';

export interface SweepRow {
  id: string;
  configuration: number;
  /** The swept fields' values, in the spec's order. */
  values: Record<string, SweepValue>;
  seed: number;
  /** The mean of the last 100 returns that counts as reached; null: none (an env without a threshold). */
  target: number | null;
  solved: boolean;
  /** Env steps (of this agent) at the report that first showed its target reached; null: never. */
  stepsToTarget: number | null;
  /** Mean return of its last 100 training episodes at the end of its budget. */
  finalMeanReturn100: number;
  /** Mean return of evalEpisodes fresh episodes after training; null with evalEpisodes 0. */
  evalMeanReturn: number | null;
  /** The first update whose step was skipped for a non-finite loss, gradient or parameter; null: none. */
  nonFiniteUpdate: number | null;
  envSteps: number;
}

const TAIL_COLUMNS = ['seed', 'target', 'solved', 'stepsToTarget', 'finalMeanReturn100', 'evalMeanReturn', 'nonFiniteUpdate', 'envSteps'] as const;

/** Rounds a return for the rows: 4 decimals hold the f32 sums' meaning without their noise digits. */
export function roundReturn(x: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(4)) : x;
}

/** A row as one flat object, columns in order: id, configuration, swept fields, then the results. */
export function flatRow(row: SweepRow): Record<string, SweepValue> {
  const out: Record<string, SweepValue> = { id: row.id, configuration: row.configuration, ...row.values };
  for (const c of TAIL_COLUMNS) out[c] = row[c];
  return out;
}

/** The inverse of flatRow, given the swept fields. */
export function rowFromFlat(flat: Record<string, SweepValue>, fields: string[]): SweepRow {
  return {
    id: flat.id as string,
    configuration: flat.configuration as number,
    values: Object.fromEntries(fields.map((f) => [f, flat[f]])),
    seed: flat.seed as number,
    target: flat.target as number | null,
    solved: flat.solved as boolean,
    stepsToTarget: flat.stepsToTarget as number | null,
    finalMeanReturn100: flat.finalMeanReturn100 as number,
    evalMeanReturn: flat.evalMeanReturn as number | null,
    nonFiniteUpdate: flat.nonFiniteUpdate as number | null,
    envSteps: flat.envSteps as number,
  };
}

function csvCell(value: SweepValue): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function resultsCsv(rows: SweepRow[], fields: string[]): string {
  const header = ['id', 'configuration', ...fields, ...TAIL_COLUMNS];
  return [header.join(','), ...rows.map((r) => Object.values(flatRow(r)).map(csvCell).join(','))].map((l) => `${l}\n`).join('');
}

export function resultsJsonl(rows: SweepRow[]): string {
  return rows.map((r) => `${JSON.stringify(flatRow(r))}\n`).join('');
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface ConfigurationSummary {
  configuration: number;
  /** c007 */
  name: string;
  values: Record<string, SweepValue>;
  seeds: number;
  solved: number;
  medianFinalMeanReturn100: number;
  minFinalMeanReturn100: number;
  maxFinalMeanReturn100: number;
  /** Over the seeds that reached the target; null if none did. */
  medianStepsToTarget: number | null;
  medianEvalMeanReturn: number | null;
  nonFinite: number;
}

/**
 * Configurations ranked by the median over seeds of finalMeanReturn100; ties (e.g. at CartPole's cap of 500)
 * go to the larger share of seeds that reached the target, then the higher minimum, then fewer steps to it.
 */
export function rankConfigurations(rows: SweepRow[]): ConfigurationSummary[] {
  const byConfig = new Map<number, SweepRow[]>();
  for (const row of rows) {
    const list = byConfig.get(row.configuration) ?? [];
    list.push(row);
    byConfig.set(row.configuration, list);
  }
  const summaries = [...byConfig.entries()].map(([configuration, rs]): ConfigurationSummary => {
    const finals = rs.map((r) => r.finalMeanReturn100);
    const steps = rs.filter((r) => r.stepsToTarget !== null).map((r) => r.stepsToTarget as number);
    const evals = rs.filter((r) => r.evalMeanReturn !== null).map((r) => r.evalMeanReturn as number);
    return {
      configuration,
      name: rs[0].id.replace(/-s\d+$/, ''),
      values: rs[0].values,
      seeds: rs.length,
      solved: rs.filter((r) => r.solved).length,
      medianFinalMeanReturn100: roundReturn(median(finals)),
      minFinalMeanReturn100: Math.min(...finals),
      maxFinalMeanReturn100: Math.max(...finals),
      medianStepsToTarget: steps.length > 0 ? median(steps) : null,
      medianEvalMeanReturn: evals.length > 0 ? roundReturn(median(evals)) : null,
      nonFinite: rs.filter((r) => r.nonFiniteUpdate !== null).length,
    };
  });
  const steps = (c: ConfigurationSummary) => c.medianStepsToTarget ?? Number.POSITIVE_INFINITY;
  return summaries.sort(
    (a, b) =>
      b.medianFinalMeanReturn100 - a.medianFinalMeanReturn100 ||
      b.solved / b.seeds - a.solved / a.seeds ||
      b.minFinalMeanReturn100 - a.minFinalMeanReturn100 ||
      (steps(a) === steps(b) ? 0 : steps(a) < steps(b) ? -1 : 1) ||
      a.configuration - b.configuration,
  );
}

/** The flags that reproduce a configuration's values with `webgpu-rl train`. */
export function trainFlags(values: Record<string, SweepValue>): string {
  return Object.entries(values)
    .map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${v}`)
    .join(' ');
}

/** summary.md: what was swept, then the ranked table. No times or paths, so shards merge to the same bytes. */
export function summaryMarkdown(rows: SweepRow[], fields: string[], meta: { hash: string; base: string }): string {
  const ranked = rankConfigurations(rows);
  const seeds = new Set(rows.map((r) => r.seed)).size;
  const targets = [...new Set(rows.map((r) => r.target))];
  const f1 = (x: number) => x.toFixed(1);
  const header = ['rank', 'configuration', ...fields, 'final return (median)', 'min–max over seeds', 'reached target', 'steps to target (median)', 'evaluation return (median)'];
  const lines = ranked.map((c, i) => [
    String(i + 1),
    c.name,
    ...fields.map((f) => String(c.values[f])),
    f1(c.medianFinalMeanReturn100),
    `${f1(c.minFinalMeanReturn100)}–${f1(c.maxFinalMeanReturn100)}`,
    `${c.solved}/${c.seeds}${c.nonFinite > 0 ? ` (${c.nonFinite} non-finite)` : ''}`,
    c.medianStepsToTarget === null ? '–' : String(Math.round(c.medianStepsToTarget)),
    c.medianEvalMeanReturn === null ? '–' : f1(c.medianEvalMeanReturn),
  ]);
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const best = ranked[0];
  return [
    `# Sweep ${meta.hash}`,
    '',
    `${rows.length} agents: ${ranked.length} configurations × ${seeds} seeds; ${meta.base}.`,
    `Target: mean return of the last 100 episodes ≥ ${targets.map((t) => (t === null ? 'none' : String(t))).join(' / ')}; every agent trains to the end of its budget.`,
    '',
    'Configurations ranked by the median over seeds of the final mean return of the last 100 training episodes (spread: min–max over seeds);',
    'ties go to more seeds at the target, then the higher minimum, then fewer steps to it.',
    'Steps to target: the median over the seeds that reached it.',
    '',
    row(header),
    row(header.map((_, i) => (i === 1 || (i >= 2 && i < 2 + fields.length && typeof best?.values[fields[i - 2]] === 'string') ? '---' : '---:'))),
    ...lines.map(row),
    '',
    best ? `Best: ${best.name}${fields.length ? ` (\`${trainFlags(best.values)}\`)` : ''}; each agent's folder holds its config: \`webgpu-rl train --config agents/${best.name}-s<seed>/config.json\` retrains it.` : 'No agents.',
    '',
  ].join('\n');
}
