/**
 * Kubernetes resource quantities ("512Mi", "1.5", "250m") to and from the plain numbers the contracts use:
 * bytes for memory, cores for CPU.
 */
const SUFFIX_FACTORS: Record<string, number> = {
  '': 1,
  m: 1e-3,
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

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/;

/** Undefined for an absent or unparsable quantity: an unknown value, which the policy treats as such. */
export function parseQuantity(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  if (typeof quantity === 'number') return quantity;
  const match = QUANTITY.exec(quantity.trim());
  if (!match) return undefined;
  const factor = SUFFIX_FACTORS[match[2] ?? ''];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}

/** Whole bytes, so the value the API server stores is exactly the value the plan signed. */
export function formatMemory(bytes: number): string {
  return String(Math.ceil(bytes));
}

/** Whole millicores, the finest CPU unit Kubernetes keeps. */
export function formatCpu(cores: number): string {
  return `${Math.ceil(cores * 1000)}m`;
}
