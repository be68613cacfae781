import seedrandom from 'seedrandom';

export interface LabelledRow {
  tenure: number;
  spend: number;
  noise: number;
  churned: 'yes' | 'no';
}

/** Rows with a known signal: churn when spend is high and tenure short, with a little label noise. */
export function churnRows(n: number, seed = 'churn'): LabelledRow[] {
  const random = seedrandom(seed);
  return Array.from({ length: n }, () => {
    const tenure = Math.round(random() * 60);
    const spend = Math.round(random() * 2000) / 10;
    const noise = Math.round((random() - 0.5) * 1000) / 100;
    const score = 0.08 * spend - 0.25 * tenure + (random() - 0.5) * 0.8;
    return { tenure, spend, noise, churned: score > 0 ? 'yes' : 'no' };
  });
}

export function toCsv(rows: LabelledRow[]): string {
  return ['tenure,spend,noise,churned', ...rows.map((r) => `${r.tenure},${r.spend},${r.noise},${r.churned}`)].join('\n') + '\n';
}
