// Plain decimal notation only ("1e3", "-0.5", ".5"): hex/binary literals, "NaN", "Infinity" and "1,000" stay text.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

// A zero followed by another digit ("007", "02139") marks a code whose zeros matter, not a quantity.
const LEADING_ZERO = /^[+-]?0\d/;

/** The finite number a trimmed CSV value spells, or undefined when it is not one. */
export function parseCsvNumber(value: string): number | undefined {
  if (!DECIMAL.test(value)) return undefined;
  const number = Number(value);
  // "1e999" is decimal notation but overflows to Infinity.
  return Number.isFinite(number) ? number : undefined;
}

export function hasLeadingZero(value: string): boolean {
  return LEADING_ZERO.test(value);
}
