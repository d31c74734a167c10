import { parseQuantity } from '../../../functions/shared/quantity.js';

/** Pod-template annotation that picks a workload's scenario, e.g. `memory-leak;rate=2Mi;base=64Mi`. */
export const SCENARIO_ANNOTATION = 'kubepulse.io/sim-scenario';

const MiB = 1024 * 1024;

export type Scenario =
  /** Flat usage with a little deterministic wobble. */
  | { kind: 'steady'; memoryBytes: number; cpuCores: number }
  /** Working set grows by `rateBytes` per simulated second from `baseBytes` until the memory limit kills it. */
  | { kind: 'memory-leak'; rateBytes: number; baseBytes: number; cpuCores: number }
  /** `loadCores` of demand shared by the workload's running replicas, each capped at its CPU limit. */
  | { kind: 'cpu-saturation'; loadCores: number; memoryBytes: number }
  /** The container exits with an error every `backoffSeconds` (simulated) and waits in CrashLoopBackOff. */
  | { kind: 'crash-loop'; backoffSeconds: number }
  /** The image never pulls: the container waits in ImagePullBackOff and never runs. */
  | { kind: 'image-pull' };

export const DEFAULT_SCENARIO: Scenario = { kind: 'steady', memoryBytes: 64 * MiB, cpuCores: 0.05 };

/** Thrown for an annotation the simulator cannot follow; it then runs the pod as steady and says so. */
export class ScenarioSyntaxError extends Error {}

/**
 * Parses `name;key=value;…`. Sizes are Kubernetes quantities (`2Mi`), CPU in cores (`0.5`, `500m`), durations
 * in simulated seconds.
 */
export function parseScenario(text: string): Scenario {
  const [name = '', ...pairs] = text.split(';').map((part) => part.trim());
  const options = new Map<string, string>();
  for (const pair of pairs) {
    if (!pair) continue;
    const [key, value] = pair.split('=', 2).map((s) => s.trim());
    if (!key || value === undefined) throw new ScenarioSyntaxError(`'${pair}' is not key=value`);
    options.set(key, value);
  }
  const quantity = (key: string, fallback: number) => {
    const raw = options.get(key);
    if (raw === undefined) return fallback;
    const value = parseQuantity(raw);
    if (value === undefined) throw new ScenarioSyntaxError(`${key}=${raw} is not a quantity`);
    return value;
  };
  const known = (...keys: string[]) => {
    const unknown = [...options.keys()].filter((key) => !keys.includes(key));
    if (unknown.length > 0) throw new ScenarioSyntaxError(`${name} does not take ${unknown.join(', ')}`);
  };
  switch (name) {
    case 'steady':
      known('memory', 'cpu');
      return { kind: 'steady', memoryBytes: quantity('memory', 64 * MiB), cpuCores: quantity('cpu', 0.05) };
    case 'memory-leak':
      known('rate', 'base', 'cpu');
      return {
        kind: 'memory-leak',
        rateBytes: quantity('rate', MiB),
        baseBytes: quantity('base', 32 * MiB),
        cpuCores: quantity('cpu', 0.05),
      };
    case 'cpu-saturation':
      known('load', 'memory');
      return {
        kind: 'cpu-saturation',
        loadCores: quantity('load', 2),
        memoryBytes: quantity('memory', 64 * MiB),
      };
    case 'crash-loop':
      known('backoff');
      return { kind: 'crash-loop', backoffSeconds: quantity('backoff', 30) };
    case 'image-pull':
      known();
      return { kind: 'image-pull' };
    default:
      throw new ScenarioSyntaxError(`unknown scenario '${name}'`);
  }
}
