/**
 * Kubernetes resource quantities ("512Mi", "1.5", "250m", "2e3") to and from the plain numbers the contracts use:
 * bytes for memory, cores for CPU. The shipper reads them from pod specs, the executor from the objects it changes.
 */
const SUFFIX_MULTIPLIERS: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?([a-zA-Z]*)$/;

/**
 * A quantity as a number; undefined when absent or not a quantity (an unknown value: the shipper leaves it out of
 * the inventory, the executor's policy treats it as unknown). Kubernetes itself validates quantities.
 */
export function parseQuantity(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  if (typeof quantity === 'number') return quantity;
  const match = QUANTITY.exec(quantity.trim());
  if (!match) return undefined;
  const [, mantissa, exponent, suffix = ''] = match;
  const multiplier = SUFFIX_MULTIPLIERS[suffix];
  if (multiplier === undefined || (exponent !== undefined && suffix !== '')) return undefined;
  const value = Number(mantissa) * 10 ** Number(exponent ?? 0) * multiplier;
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Whole bytes, so the value the API server stores is exactly the value the plan signed. */
export function formatMemory(bytes: number): string {
  return String(Math.ceil(bytes));
}

/** Whole millicores, the finest CPU unit Kubernetes keeps. */
export function formatCpu(cores: number): string {
  return `${Math.ceil(cores * 1000)}m`;
}
