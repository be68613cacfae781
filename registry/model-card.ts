import type { ModelLineage } from '../domain/lineage';
import type { Blessing, EvaluationReport, ModelSpec, Task } from '../domain/model';

/** What a card is built from: the version's record, its training run, its dataset version and evaluation. */
export interface ModelCardInput {
  model: { name: string };
  version: { id: string; version: number; createdAt: Date | string | null; onnxSha256: string; features: string[] };
  run: {
    id: string;
    task: Task;
    taskReason: string | null;
    target: string;
    classes: string[] | null;
    spec: ModelSpec;
    backend: string | null;
    codeVersion: string;
  };
  dataset: { id: string; name: string | null; version: number | null; rows: number | null } | null;
  evaluation: EvaluationReport;
  blessing: Blessing;
  lineage: ModelLineage | null;
}

export interface CardMetric {
  name: string;
  value: number | null;
}

export interface CardSlice {
  column: string;
  values: { value: string; rows: number | null; metrics: CardMetric[] }[];
}

export interface CardFairness {
  sensitive: string;
  groups: { value: string; rows: number | null; metrics: CardMetric[] }[];
  metrics: CardMetric[];
}

export interface CardImportance {
  feature: string;
  mean: number;
  std: number | null;
}

export interface ModelCardJson {
  schemaVersion: 1;
  model: string;
  version: number;
  modelVersionId: string;
  createdAt: string | null;
  task: string;
  taskReason: string | null;
  target: string;
  classes: string[] | null;
  family: string;
  hyperParameters: ModelSpec;
  features: string[];
  intendedUse: { summary: string; outOfScope: string[] };
  data: { datasetId: string | null; dataset: string | null; datasetVersion: number | null; rows: number | null; holdoutRows: number; testFraction: number; seed: number };
  metrics: CardMetric[];
  slices: CardSlice[] | null;
  fairness: CardFairness | null;
  importance: CardImportance[] | null;
  champion: { modelVersionId: string | null; version: number | null; rows: number | null; metrics: CardMetric[] } | null;
  /** Why the candidate was not compared with a champion, when it was not. */
  championNote: string | null;
  blessing: { decision: Blessing['decision']; reasons: string[]; verdicts: string[] };
  artifact: { onnxSha256: string };
  lineage: ModelLineage | null;
  limitations: string[];
}

export interface ModelCard {
  json: ModelCardJson;
  markdown: string;
}

// Numbers in a report that describe the split, not the model's quality.
const NOT_METRICS = new Set(['positives', 'rows', 'support']);

/** A version's model card as JSON and Markdown; pure, so the API can rebuild it for any stored version. */
export function buildModelCard(input: ModelCardInput): ModelCard {
  const json = modelCardJson(input);
  return { json, markdown: renderMarkdown(json) };
}

function taskLabel(task: Task, classes: string[] | null): string {
  if (task === 'regression') return 'regression';
  return (classes?.length ?? 0) > 2 ? 'multi-class classification' : 'binary classification';
}

export function modelCardJson(input: ModelCardInput): ModelCardJson {
  const { run, evaluation, dataset, version } = input;
  const report = evaluation as unknown as Record<string, unknown>;
  const task = taskLabel(run.task, run.classes);
  const slices = readSlices(report.slices);
  const fairness = readFairness(report.fairness);
  const importance = readImportance(report.importance);
  const champion = readChampion(report.champion, input.blessing);
  const predicts = run.task === 'regression' ? `the number "${run.target}"` : `"${run.target}" among ${(run.classes ?? []).map((c) => `"${c}"`).join(', ')}`;
  return {
    schemaVersion: 1,
    model: input.model.name,
    version: version.version,
    modelVersionId: version.id,
    createdAt: version.createdAt === null ? null : new Date(version.createdAt).toISOString(),
    task,
    taskReason: run.taskReason,
    target: run.target,
    classes: run.classes,
    family: run.spec.type,
    hyperParameters: run.spec,
    features: version.features,
    intendedUse: {
      summary: `Predicts ${predicts} (${task}) from ${version.features.length} numeric feature${version.features.length === 1 ? '' : 's'} of rows shaped like dataset ${dataset?.name ?? 'unknown'} v${dataset?.version ?? '?'}.`,
      outOfScope: [
        'Rows whose features are missing, non-numeric or far outside the ranges seen in training.',
        'Decisions about people without a human review and a fairness evaluation on the population concerned.',
      ],
    },
    data: {
      datasetId: dataset?.id ?? null,
      dataset: dataset?.name ?? null,
      datasetVersion: dataset?.version ?? null,
      rows: dataset?.rows ?? null,
      holdoutRows: evaluation.split.rows,
      testFraction: evaluation.split.testFraction,
      seed: evaluation.split.seed,
    },
    metrics: isRecord(report.metrics) ? readMetricBag(report.metrics) : readMetrics(report),
    slices,
    fairness,
    importance,
    champion,
    championNote: readChampionNote(report.champion, input.blessing),
    blessing: {
      decision: input.blessing.decision,
      reasons: input.blessing.reasons,
      verdicts: (input.blessing.verdicts ?? []).map((v) => `${v.passed ? 'passed' : 'FAILED'}: ${v.message}`),
    },
    artifact: { onnxSha256: version.onnxSha256 },
    lineage: input.lineage,
    limitations: limitations(input, { slices, fairness, importance }),
  };
}

function limitations(input: ModelCardInput, found: { slices: CardSlice[] | null; fairness: CardFairness | null; importance: CardImportance[] | null }): string[] {
  const out: string[] = [];
  const rows = input.evaluation.split.rows;
  out.push(`Metrics come from ${rows} held-out row${rows === 1 ? '' : 's'} of one dataset version; they say nothing about data that has drifted since.`);
  if (rows < 100) out.push(`Only ${rows} held-out rows: the metrics' uncertainty is large (a few rows move them by whole percentage points).`);
  if (input.evaluation.task !== 'regression') {
    for (const c of input.evaluation.perClass ?? []) {
      if (c.support < 10) out.push(`Class "${c.label}" has ${c.support} held-out row${c.support === 1 ? '' : 's'}: its metrics are anecdotal.`);
    }
  }
  if (!found.slices) out.push('No sliced metrics were computed: quality may differ between groups of rows.');
  if (!found.fairness) out.push('No fairness evaluation was declared: do not use for decisions about people until one is run.');
  if (!found.importance) out.push('No feature importance was computed: which inputs drive the predictions is unknown.');
  if (input.blessing.decision === 'rejected') out.push(`Not blessed: ${input.blessing.reasons.join('; ')}.`);
  return out;
}

/** Every top-level number of the report is a metric: reports gain metrics over time and the card shows them all. */
function readMetrics(report: Record<string, unknown>): CardMetric[] {
  const out: CardMetric[] = [];
  for (const [name, value] of Object.entries(report)) {
    if (NOT_METRICS.has(name) || name === 'task') continue;
    if (typeof value === 'number' || (value === null && /auc|loss|ece|error/i.test(name))) out.push({ name, value });
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** `{accuracy: 0.9}` or `[{name, value}]`: both read as metrics. */
function readMetricBag(value: unknown): CardMetric[] {
  if (Array.isArray(value)) {
    return value.filter(isRecord).flatMap((m) => (typeof m.name === 'string' ? [{ name: m.name, value: numberOrNull(m.value) }] : []));
  }
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([name, v]) => (typeof v === 'number' || v === null ? [{ name, value: numberOrNull(v) }] : []));
}

function label(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : value === null ? 'null' : '?';
}

function readGroups(value: unknown): { value: string; rows: number | null; metrics: CardMetric[] }[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((g) => ({
    value: label(g.value ?? g.group),
    rows: numberOrNull(g.rows ?? g.support ?? g.count),
    metrics: readMetricBag(g.metrics ?? Object.fromEntries(Object.entries(g).filter(([k]) => !['value', 'group', 'rows', 'support', 'count'].includes(k)))),
  }));
}

function readSlices(value: unknown): CardSlice[] | null {
  if (!Array.isArray(value)) return null;
  const slices = value.filter(isRecord).flatMap((s) => (typeof s.column === 'string' ? [{ column: s.column, values: readGroups(s.slices ?? s.values ?? s.groups) }] : []));
  return slices.length ? slices : null;
}

function readFairness(value: unknown): CardFairness | null {
  if (!isRecord(value)) return null;
  const sensitive = typeof value.sensitive === 'string' ? value.sensitive : typeof value.column === 'string' ? value.column : null;
  if (!sensitive) return null;
  // Either a `metrics` bag, or the report's own top-level figures (demographic parity difference, …).
  const figures = value.metrics ?? Object.fromEntries(Object.entries(value).filter(([k, v]) => typeof v === 'number' || (v === null && /(Difference|Ratio)$/.test(k))));
  return { sensitive, groups: readGroups(value.groups), metrics: readMetricBag(figures) };
}

function readImportance(report: unknown): CardImportance[] | null {
  // `{metric, features: [...]}`, or the feature list itself.
  const value = isRecord(report) ? report.features : report;
  if (!Array.isArray(value)) return null;
  const rows = value
    .filter(isRecord)
    .flatMap((r) => (typeof r.feature === 'string' && typeof (r.mean ?? r.importance) === 'number' ? [{ feature: r.feature, mean: Number(r.mean ?? r.importance), std: numberOrNull(r.std) }] : []))
    .sort((a, b) => b.mean - a.mean);
  return rows.length ? rows : null;
}

function readChampion(value: unknown, blessing: Blessing): ModelCardJson['champion'] {
  if (isRecord(value)) {
    if (value.status === 'none') return null;
    return {
      modelVersionId: typeof value.modelVersionId === 'string' ? value.modelVersionId : null,
      version: numberOrNull(value.version),
      rows: numberOrNull(value.rows),
      metrics: readMetricBag(value.champion ?? value.metrics ?? value),
    };
  }
  const legacy = (blessing as Partial<Blessing>).champion;
  return legacy ? { modelVersionId: legacy.modelVersionId, version: legacy.version ?? null, rows: null, metrics: [{ name: legacy.metric, value: legacy.value }] } : null;
}

function readChampionNote(value: unknown, blessing: Blessing): string | null {
  if (isRecord(value) && value.status === 'none' && typeof value.reason === 'string') return value.reason;
  return blessing.championNote ?? null;
}

function fmt(value: number | null): string {
  if (value === null) return 'n/a';
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

function metricTable(rows: { label: string; metrics: CardMetric[]; rows?: number | null }[], firstColumn: string): string[] {
  const names = [...new Set(rows.flatMap((r) => r.metrics.map((m) => m.name)))];
  const withRows = rows.some((r) => r.rows !== undefined);
  const header = [firstColumn, ...(withRows ? ['rows'] : []), ...names];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const cells = [r.label, ...(withRows ? [r.rows === undefined || r.rows === null ? 'n/a' : String(r.rows)] : []), ...names.map((n) => fmt(r.metrics.find((m) => m.name === n)?.value ?? null))];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

/** The card as a reviewer reads it: one section per question a model card answers. */
export function renderMarkdown(card: ModelCardJson): string {
  const out: string[] = [`# Model card: ${card.model} v${card.version}`, ''];
  out.push(`- Version id: \`${card.modelVersionId}\``, `- Task: ${card.task}${card.taskReason ? ` (${card.taskReason})` : ''}`, `- Family: ${card.family}`);
  if (card.createdAt) out.push(`- Registered: ${card.createdAt}`);
  out.push(`- ONNX sha256: \`${card.artifact.onnxSha256}\``, `- Blessing: **${card.blessing.decision}**`, '');

  out.push('## Intended use', '', card.intendedUse.summary, '', 'Out of scope:', ...card.intendedUse.outOfScope.map((s) => `- ${s}`), '');

  out.push('## Data', '');
  out.push(`- Dataset: ${card.data.dataset ?? 'unknown'} v${card.data.datasetVersion ?? '?'} (${card.data.rows ?? '?'} rows)`);
  out.push(`- Held out for evaluation: ${card.data.holdoutRows} rows (test fraction ${card.data.testFraction}, seed ${card.data.seed})`);
  out.push(`- Target: ${card.target}${card.classes ? `; classes: ${card.classes.join(', ')}` : ''}`);
  out.push(`- Features: ${card.features.join(', ')}`, '');

  out.push('## Metrics', '', '| metric | value |', '| --- | --- |', ...card.metrics.map((m) => `| ${m.name} | ${fmt(m.value)} |`), '');
  if (card.champion) {
    const name = card.champion.version !== null ? `v${card.champion.version}` : (card.champion.modelVersionId ?? 'the production version');
    out.push(`Champion ${name} on the same ${card.champion.rows ?? ''} held-out rows:`.replace('  ', ' '), '');
    out.push(...metricTable([{ label: name, metrics: card.champion.metrics }], 'model'), '');
  } else if (card.championNote) out.push(`No champion comparison: ${card.championNote}.`, '');

  out.push('## Slices', '');
  if (card.slices) {
    for (const slice of card.slices) {
      out.push(`### ${slice.column}`, '', ...metricTable(slice.values.map((v) => ({ label: v.value, rows: v.rows, metrics: v.metrics })), slice.column), '');
    }
  } else out.push('Not computed.', '');

  out.push('## Fairness', '');
  if (card.fairness) {
    out.push(`Sensitive attribute: ${card.fairness.sensitive}`, '');
    if (card.fairness.metrics.length) out.push('| metric | value |', '| --- | --- |', ...card.fairness.metrics.map((m) => `| ${m.name} | ${fmt(m.value)} |`), '');
    if (card.fairness.groups.length) out.push(...metricTable(card.fairness.groups.map((g) => ({ label: g.value, rows: g.rows, metrics: g.metrics })), card.fairness.sensitive), '');
  } else out.push('Not evaluated.', '');

  out.push('## Feature importance', '');
  if (card.importance) {
    out.push('| feature | mean | std |', '| --- | --- | --- |', ...card.importance.map((i) => `| ${i.feature} | ${fmt(i.mean)} | ${fmt(i.std)} |`), '');
  } else out.push('Not computed.', '');

  out.push('## Blessing', '', `Decision: **${card.blessing.decision}**`, '');
  // Newer blessings list every threshold's verdict; older ones only their reasons.
  out.push(...(card.blessing.verdicts.length ? card.blessing.verdicts : card.blessing.reasons).map((r) => `- ${r}`), '');

  out.push('## Lineage', '');
  if (card.lineage) {
    const l = card.lineage;
    out.push(
      `- Training run: \`${l.trainingRunId}\``,
      `- Dataset version: \`${l.dataset.versionId}\`${l.dataset.contentHash ? ` (content ${l.dataset.contentHash})` : ''}`,
      `- Code version: ${l.codeVersion}`,
      ...Object.entries(l.workflows).map(([stage, id]) => `- ${stage} workflow: ${id ? `\`${id}\`` : 'n/a'}`),
      '',
    );
  } else out.push('Not recorded (registered before lineage was kept).', '');

  out.push('## Limitations', '', ...card.limitations.map((l) => `- ${l}`), '');
  return out.join('\n');
}
