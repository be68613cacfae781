import seedrandom from 'seedrandom';

/**
 * Data for the flywheel (train on A, serve B, retrain on A + labelled B). Customers churn when their spend is
 * high for the price level they pay: the churn threshold on `spend` is 100 at price level 1.0 and 150 at 1.3.
 * In A every price is near 1.0, so a model trained on A alone learns "spend above 100 churns" and nothing about
 * price. In B prices have risen to about 1.3 and spend with them: the A-only model calls most of B churners,
 * while a model that has seen a few hundred labelled B rows learns the price term and recovers.
 *
 * `spend` and `price` drift (PSI and KS on A's deciles flag them); `usage`, `calls` and `age` keep their
 * distribution. The label is random given the features (logistic noise), so no model is perfect on either.
 * Note for a canary of the retrained model on B traffic: its outputs differ from the A model's by design,
 * so a `predictionShiftPsi` gate compares it with a model that is wrong; gate it on errors and live accuracy.
 */
export const FLYWHEEL_FEATURES = ['usage', 'spend', 'price', 'calls', 'age'] as const;
export const FLYWHEEL_TARGET = 'churned';
/** The features B shifts; the others keep A's distribution. */
export const FLYWHEEL_DRIFTED_FEATURES = ['spend', 'price'] as const;

/** The `model` of the flywheel's POST /v1/pipelines: trains in about a second on a few thousand rows, and is enough for the effect. */
export const FLYWHEEL_PIPELINE_MODEL = { type: 'logistic', learningRate: 0.1, epochs: 5 } as const;

export type FlywheelFeature = (typeof FLYWHEEL_FEATURES)[number];
export type FlywheelRecord = Record<FlywheelFeature, number>;
export interface FlywheelRow extends FlywheelRecord {
  churned: 'yes' | 'no';
}

interface Shape {
  spendMean: number;
  priceMean: number;
  priceStd: number;
}

const A: Shape = { spendMean: 100, priceMean: 1.0, priceStd: 0.02 };
const B: Shape = { spendMean: 150, priceMean: 1.3, priceStd: 0.02 };

/** Rows of distribution A (what the first model trains on). */
export function distributionA(n: number, seed = 'flywheel-a'): FlywheelRow[] {
  return rows(n, A, seed);
}

/** Rows of distribution B (production after prices rose): spend and price shifted, and the churn threshold with them. */
export function distributionB(n: number, seed = 'flywheel-b'): FlywheelRow[] {
  return rows(n, B, seed);
}

/** The churn threshold on spend at a price level: a step between A's and B's price levels. */
function spendThreshold(price: number): number {
  return price < 1.15 ? 100 : 150;
}

function rows(n: number, shape: Shape, seed: string): FlywheelRow[] {
  const random = seedrandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: n }, () => {
    const usage = round(50 + 10 * normal(), 1);
    const spend = round(shape.spendMean + 20 * normal(), 2);
    const price = round(shape.priceMean + shape.priceStd * normal(), 3);
    const calls = Math.floor(random() * 6);
    const age = Math.round(40 + 10 * normal());
    const logit = (spend - spendThreshold(price)) / 5 - (usage - 50) / 10;
    const churned = random() < 1 / (1 + Math.exp(-logit)) ? 'yes' : 'no';
    return { usage, spend, price, calls, age, churned };
  });
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A row's features as a predict request's record. */
export function flywheelRecord(row: FlywheelRow): FlywheelRecord {
  return { usage: row.usage, spend: row.spend, price: row.price, calls: row.calls, age: row.age };
}

/** Rows as a dataset upload (header, then one line per row). */
export function flywheelCsv(rows: readonly FlywheelRow[]): string {
  const columns = [...FLYWHEEL_FEATURES, FLYWHEEL_TARGET] as const;
  return [columns.join(','), ...rows.map((r) => columns.map((c) => r[c]).join(','))].join('\n') + '\n';
}
