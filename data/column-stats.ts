import type { ColumnSchema, ColumnStats, NumberColumnStats, StringColumnStats } from '../domain/dataset';
import { DISTINCT_CAP, type StringTally } from './string-tally';

const TOP_VALUES = 5;

// simple-statistics ships ES modules only, which a CommonJS file can load only through import().
const loadStatistics = () => import('simple-statistics');
type Statistics = Awaited<ReturnType<typeof loadStatistics>>;

function finiteOrNull(value: number): number | null {
  // Keeps stats JSON-safe when a sum of huge values overflows.
  return Number.isFinite(value) ? value : null;
}

function numberStats(ss: Statistics, name: string, values: Float64Array): NumberColumnStats {
  const present = Array.from(values.filter((value) => !Number.isNaN(value)).sort());
  const missing = values.length - present.length;
  if (present.length === 0) {
    return { name, type: 'number', count: 0, missing, min: null, max: null, mean: null, std: null, median: null, distinct: 0, distinctCapped: false, integers: false };
  }
  // `present` is sorted, so a new value is one that differs from its predecessor.
  let distinct = 0;
  for (let i = 0; i < present.length && distinct <= DISTINCT_CAP; i++) if (i === 0 || present[i] !== present[i - 1]) distinct++;
  return {
    name,
    type: 'number',
    count: present.length,
    missing,
    min: ss.min(present),
    max: ss.max(present),
    mean: finiteOrNull(ss.mean(present)),
    std: finiteOrNull(ss.standardDeviation(present)),
    median: finiteOrNull(ss.medianSorted(present)),
    distinct: Math.min(distinct, DISTINCT_CAP),
    distinctCapped: distinct > DISTINCT_CAP,
    integers: present.every((value) => Number.isInteger(value)),
  };
}

function stringStats(name: string, values: (string | null)[], tally: StringTally | undefined): StringColumnStats {
  const count = values.reduce((sum, value) => (value === null ? sum : sum + 1), 0);
  return {
    name,
    type: 'string',
    count,
    missing: values.length - count,
    distinct: tally?.distinct ?? 0,
    distinctCapped: tally?.distinctCapped ?? false,
    top: tally?.top(TOP_VALUES) ?? [],
  };
}

/** Per-column statistics: `count` is the number of non-missing values; `std` is the population standard deviation. */
export async function columnStats(
  schema: ColumnSchema[],
  columns: Record<string, Float64Array | (string | null)[]>,
  tallies: (StringTally | undefined)[],
): Promise<ColumnStats[]> {
  const ss = await loadStatistics();
  return schema.map((column, index) => {
    const values = columns[column.name] ?? [];
    return values instanceof Float64Array
      ? numberStats(ss, column.name, values)
      : stringStats(column.name, values, tallies[index]);
  });
}
