import type { RetrainRequestResult } from './retrain';

/**
 * Drift and live-quality monitoring of an endpoint: its thresholds (configured per endpoint, defaults filled),
 * and the drift report a monitor run stores for each model version that served in a window.
 */

/** Per-feature overrides of the drift thresholds. */
export interface FeatureThresholds {
  psi?: number;
  ks?: number;
  js?: number;
  chi2PValue?: number;
  wasserstein?: number;
}

export interface MonitoringThresholds {
  /** A feature drifts when its PSI on the training deciles is above this. */
  psi: number;
  /** … or its Kolmogorov–Smirnov statistic D is above this. */
  ks: number;
  /** Jensen–Shannon distance (base 2) above which a categorical feature drifts. */
  js: number;
  /** A categorical feature drifts when its chi² p-value is below this. */
  chi2PValue: number;
  /** … or its Wasserstein distance, divided by the training standard deviation, is above this. */
  wasserstein: number;
  /** The prediction distribution drifts when its PSI is above this. */
  predictionPsi: number;
  /** Live accuracy on labelled rows below this is a quality drop (classifiers); none when null. */
  minAccuracy: number | null;
  /** Live RMSE on labelled rows above this is a quality drop (regressors); none when null. */
  maxRmse: number | null;
  /** Labelled rows needed before live metrics count towards `drifted`. */
  minLabels: number;
  /** Rows a version needs in the window before its drift counts (fewer: reported, never drifted). */
  minRows: number;
  features: Record<string, FeatureThresholds>;
}

/**
 * The defaults, as Evidently reads them: PSI above 0.2 is a large shift, KS D above 0.1 and normalised
 * Wasserstein above 0.1 are Evidently's own thresholds, chi² at the 5 % level; no live-quality floor unless set.
 */
export const DEFAULT_MONITORING_THRESHOLDS: MonitoringThresholds = {
  psi: 0.2,
  ks: 0.1,
  js: 0.1,
  chi2PValue: 0.05,
  wasserstein: 0.1,
  predictionPsi: 0.2,
  minAccuracy: null,
  maxRmse: null,
  minLabels: 30,
  minRows: 100,
  features: {},
};

/** What drift does besides alerting: with `enabled`, a drifted or degraded report starts one retrain per drift episode. */
export interface RetrainConfig {
  enabled: boolean;
  /** A pipeline model spec, as POST /v1/pipelines takes it. */
  model: Record<string, unknown> | null;
  /** Attempts per drift episode (a failed one is tried again after a backoff); absent in configs from before: 3. */
  maxAttempts?: number;
  /** Wait before the 2nd attempt, doubling for each later one; absent: 600. */
  backoffSeconds?: number;
}

export interface MonitoringConfig {
  thresholds: MonitoringThresholds;
  retrain: RetrainConfig;
  updatedAt: string | null;
  updatedBy: string | null;
}

export interface FeatureDrift {
  feature: string;
  /** Rows with a numeric value for the feature (others are `missing`). */
  rows: number;
  missing: number;
  psi: number;
  ks: { statistic: number; pValue: number };
  /** Wasserstein-1 on the baseline's bins, divided by the training standard deviation. */
  wasserstein: number;
  /** Per bin: training counts and window counts, the bins numbered as width_bucket does. */
  bins: { edges: number[]; baseline: number[]; current: number[] };
  currentMin: number | null;
  currentMax: number | null;
  drifted: boolean;
  /** Which thresholds were crossed, e.g. `psi 0.41 > 0.2`. */
  crossed: string[];
  thresholdsUsed: { psi: number; ks: number; wasserstein: number };
}

export interface PredictionDrift {
  task: 'classification' | 'regression';
  /** PSI of the predicted labels (classifiers) or predicted values on the baseline's bins (regressors). */
  psi: number;
  /** Classifiers: the predicted labels as a categorical distribution, chi² test and Jensen–Shannon distance. */
  chi2: { statistic: number; pValue: number } | null;
  js: number | null;
  /** Classifiers: PSI of the top-class probability on tenths. */
  probabilityPsi: number | null;
  labelCounts: Record<string, number> | null;
  drifted: boolean;
}

export interface LiveMetrics {
  labelled: number;
  correct: number | null;
  accuracy: number | null;
  /** Two classes: ROC-AUC from the positive-class probability on hundredths (ties within a bin count a half). */
  rocAuc: number | null;
  rmse: number | null;
  mae: number | null;
  /** Below minAccuracy or above maxRmse with at least minLabels labels. */
  degraded: boolean;
}

export interface VersionDriftReport {
  modelVersionId: string;
  model: { name: string; version: number };
  window: { from: string; to: string };
  rows: number;
  /** At least minRows rows: below that nothing is called drifted (the numbers are still reported). */
  enoughRows: boolean;
  /** False for a version trained before baselines were kept: no drift computed, live metrics still are. */
  baseline: boolean;
  features: FeatureDrift[];
  prediction: PredictionDrift | null;
  live: LiveMetrics;
  drifted: boolean;
  reasons: string[];
}

export interface MonitorEndpointInput {
  projectId: string;
  endpointName: string;
  /** ISO instants of the window [from, to); the workflow id is derived from them. */
  from: string;
  to: string;
  requestedBy?: string;
}

export interface MonitorEndpointResult {
  endpointId: string;
  window: { from: string; to: string };
  reports: { id: string; modelVersionId: string; drifted: boolean; reasons: string[] }[];
  drifted: boolean;
  /** Ids of the webhook events published. */
  alerts: string[];
  /** What each drifted report did about retraining (absent in runs from before retraining on drift). */
  retrains?: RetrainRequestResult[];
}
