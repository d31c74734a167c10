/**
 * Seeded generator of labelled Kubernetes pod series for bench:faults: memory leaks that end in an OOM kill,
 * CPU demand ramping into throttling, and benign behaviour that fools naive detectors. One sample every 30 s
 * (the models' step), usage in absolute units (bytes, cores) with the limit in force at each sample.
 *
 * Labels. A faulty series has `onsetIndex` (the first sample of the fault) and `failureIndex`: the step at
 * which the pod is OOM-killed (memory reaches its limit) or CPU saturation starts (demand reaches the
 * throttling cap). The series ends just before the failure (`values.length === failureIndex`): what happens
 * after is not predicted any more, and the OOM event itself travels on another path. Benign series have
 * neither and run for several days. Deliberate decisions:
 * - a deploy that shifts usage to a new level that stays well under the limit (<= 0.75) is benign;
 * - a restart and its warm-up are benign; where a leak follows a restart or a deploy, the fault starts when
 *   the leak does, so an alert on the restart or on the deploy's shift counts as a false incident;
 * - a limit raised mid-series is benign: usage grows into the new limit (a JVM heap sized as a share of the
 *   limit) and stays below 0.8 of it.
 *
 * Kept apart from the models' training data (models/kubepulse_models/synthetic.py): other seeds and another
 * random source; shapes it does not produce (leaks of power 1.3..3 where training has only power 2 and
 * exponential, staircases of 4-sample ramps with gaps of 20..240 samples where training has instant steps
 * every 8..60, a leak under a fast GC sawtooth, leaks over days under daily load, leaks starting after a
 * warm-up or after a deploy, logistic CPU ramps ending at the throttling cap, batch jobs, periodic restarts,
 * limit changes); multi-day series where training has 512 samples; AR(1) noise with stronger memory
 * autocorrelation (0.5..0.95) than training uses (0..0.7).
 */
import { Rng } from './rng.js';

export const STEP_SECONDS = 30;
export const START_AT = 1_800_000_000;
const STEPS_PER_HOUR = 3600 / STEP_SECONDS;
const STEPS_PER_DAY = 24 * STEPS_PER_HOUR;
const MiB = 1024 ** 2;

export type Resource = 'memory' | 'cpu';

export const FAULT_SHAPES = [
  'leak_power',
  'leak_staircase',
  'leak_under_gc',
  'leak_slow_days',
  'leak_after_restart',
  'deploy_then_leak',
  'cpu_ramp',
  'cache_chunks_plateau',
  'jvm_xmx_near_limit',
  'offheap_growth',
  'restart_storm',
  'leak_at_start',
] as const;
export const BENIGN_SHAPES = [
  'gc_sawtooth_high',
  'diurnal',
  'batch_jobs',
  'warmup_after_restart',
  'limit_raised',
  'deploy_shift',
  'cache_full',
  'diurnal_high',
  'batch_high',
  'warmup_at_start',
] as const;
/** Shapes added for issue 15 (after the suite's first report): the figures are given for the old and new apart too. */
export const ADDED_SHAPES: ReadonlySet<string> = new Set([
  'cache_chunks_plateau',
  'jvm_xmx_near_limit',
  'offheap_growth',
  'restart_storm',
  'leak_at_start',
  'cache_full',
  'diurnal_high',
  'batch_high',
  'warmup_at_start',
]);
export type FaultShape = (typeof FAULT_SHAPES)[number];
export type BenignShape = (typeof BENIGN_SHAPES)[number];
export type Shape = FaultShape | BenignShape;

export interface PodSeries {
  id: string;
  shape: Shape;
  faulty: boolean;
  resource: Resource;
  /** Unix seconds of sample 0; sample i is at startAt + i * stepSeconds. */
  startAt: number;
  stepSeconds: number;
  /** Usage: bytes for memory, cores for CPU. */
  values: Float64Array;
  /** The limit in force at each sample, same unit. */
  limits: Float64Array;
  onsetIndex: number | null;
  failureIndex: number | null;
}

export interface SuiteOptions {
  seed: number;
  faultyPerShape: number;
  benignPerShape: number;
  /** Length of each benign series, drawn uniformly in this range. */
  benignDays: readonly [number, number];
}

export const DEFAULT_SUITE: SuiteOptions = {
  seed: 7331,
  faultyPerShape: 10,
  benignPerShape: 6,
  benignDays: [3, 4.5],
};

export function generateSuite(options: SuiteOptions = DEFAULT_SUITE): PodSeries[] {
  const suite: PodSeries[] = [];
  FAULT_SHAPES.forEach((shape, s) => {
    for (let i = 0; i < options.faultyPerShape; i++)
      suite.push(faultySeries(shape, new Rng(options.seed, 1, s, i), `${shape}-${i}`));
  });
  BENIGN_SHAPES.forEach((shape, s) => {
    for (let i = 0; i < options.benignPerShape; i++) {
      const rng = new Rng(options.seed, 2, s, i);
      const steps = Math.round(rng.uniform(options.benignDays[0], options.benignDays[1]) * STEPS_PER_DAY);
      suite.push(benignSeries(shape, rng, `${shape}-${i}`, steps));
    }
  });
  return suite;
}

export const failureAt = (s: PodSeries) =>
  s.failureIndex === null ? null : s.startAt + s.failureIndex * s.stepSeconds;
export const onsetAt = (s: PodSeries) =>
  s.onsetIndex === null ? null : s.startAt + s.onsetIndex * s.stepSeconds;
export const podDays = (s: PodSeries) => (s.values.length * s.stepSeconds) / 86_400;

// ------------------------------------------------------------------------------------------ building blocks

/** AR(1) noise with marginal standard deviation `sigma`. */
function arNoise(rng: Rng, n: number, sigma: number, phi: number): Float64Array {
  const out = new Float64Array(n);
  const innovation = sigma * Math.sqrt(1 - phi * phi);
  let x = sigma * rng.normal();
  for (let i = 0; i < n; i++) {
    x = phi * x + innovation * rng.normal();
    out[i] = x;
  }
  return out;
}

function memoryNoise(rng: Rng, n: number): Float64Array {
  return arNoise(rng, n, rng.logUniform(0.002, 0.012), rng.uniform(0.5, 0.95));
}

function cpuNoise(rng: Rng, n: number): Float64Array {
  return arNoise(rng, n, rng.logUniform(0.01, 0.04), rng.uniform(0.1, 0.6));
}

/** A daily cycle in [0, 1]: 0 at night, 1 at the daily peak; `sharpness` > 1 makes business-hours plateaus. */
function dailyCycle(rng: Rng, n: number): Float64Array {
  const phase = rng.uniform(0, 2 * Math.PI);
  const sharpness = rng.uniform(1, 3);
  return Float64Array.from({ length: n }, (_, i) => {
    const c = 0.5 * (1 - Math.cos((2 * Math.PI * i) / STEPS_PER_DAY + phase));
    return c ** sharpness;
  });
}

/** GC sawtooth between 0 and 1: linear growth over each jittered cycle, then a drop to a jittered floor. */
function sawtooth(rng: Rng, n: number, periodSteps: number): Float64Array {
  const out = new Float64Array(n);
  let t = -rng.int(0, Math.max(1, Math.round(periodSteps)));
  while (t < n) {
    const length = Math.max(2, Math.round(periodSteps * rng.uniform(0.7, 1.3)));
    const floor = rng.uniform(0, 0.15);
    const peak = rng.uniform(0.85, 1);
    for (let k = 0; k < length; k++) {
      if (t + k >= 0 && t + k < n) out[t + k] = floor + ((peak - floor) * k) / (length - 1);
    }
    t += length;
  }
  return out;
}

/** Adds a restart at `at` to `u` in place: downtime near zero, then an exponential warm-up back to `u`. */
function restart(rng: Rng, u: Float64Array, at: number): number {
  const low = rng.uniform(0.02, 0.08);
  const back = Math.min(u.length, at + rng.int(1, 4));
  const tau = rng.uniform(2, 40);
  for (let i = at; i < back; i++) u[i] = low;
  for (let i = back; i < u.length; i++) u[i] = low + (u[i]! - low) * (1 - Math.exp(-(i - back + 1) / tau));
  return back + Math.ceil(3 * tau);
}

function levelAround(rng: Rng, n: number, level: number, resource: Resource): Float64Array {
  const noise = resource === 'memory' ? memoryNoise(rng, n) : cpuNoise(rng, n);
  return Float64Array.from(noise, (x) => level + x);
}

// ------------------------------------------------------------------------------------------ faulty shapes

interface Fault {
  u: Float64Array;
  onset: number;
  resource: Resource;
  /** Usage at or above it is the failure: the limit (1.0) for memory, the throttling cap for CPU. */
  failureLevel: number;
}

function faultySeries(shape: FaultShape, rng: Rng, id: string): PodSeries {
  const pre = rng.int(2 * STEPS_PER_HOUR, 6 * STEPS_PER_HOUR);
  const fault = buildFault(shape, rng, pre);
  const { u, onset, resource, failureLevel } = fault;
  let failure = onset;
  while (failure < u.length && u[failure]! < failureLevel) failure++;
  if (failure >= u.length) throw new Error(`${id}: the fault never reaches its failure level`);
  return finish(id, shape, rng, resource, u.subarray(0, failure), null, onset, failure);
}

function buildFault(shape: FaultShape, rng: Rng, pre: number): Fault {
  const memory = (u: Float64Array, onset: number): Fault => ({
    u,
    onset,
    resource: 'memory',
    failureLevel: 1,
  });
  switch (shape) {
    case 'leak_power': {
      // Power-law growth (exponent 1.3..3): slow at first, accelerating into the limit in 40 min .. 10 h.
      const base = rng.uniform(0.25, 0.6);
      const fill = rng.logUniform(40 / 60, 10) * STEPS_PER_HOUR;
      const power = rng.uniform(1.3, 3);
      const u = levelAround(rng, pre + Math.ceil(fill * 1.2), base, 'memory');
      for (let i = pre; i < u.length; i++) u[i]! += (1.03 - base) * ((i - pre) / fill) ** power;
      return memory(u, pre);
    }
    case 'leak_staircase': {
      // A cache growing in chunks: short ramps of 3..10 % of the limit, irregular gaps of 10 min .. 2 h.
      const base = rng.uniform(0.2, 0.5);
      const meanGap = rng.uniform(20, 240);
      const stepSize = rng.uniform(0.03, 0.1);
      const u = levelAround(rng, pre + Math.ceil(((1 - base) / stepSize + 3) * meanGap * 4), base, 'memory');
      let level = 0;
      let last = 0;
      let t = pre;
      let next = pre;
      for (let i = pre; i < u.length; i++) {
        if (i === next) {
          t = i;
          last = stepSize * rng.uniform(0.6, 1.4);
          level += last;
          next = i + 1 + Math.round(-meanGap * Math.log(1 - rng.next()));
        }
        u[i]! += level - last * (1 - Math.min(1, (i - t + 1) / 4));
      }
      return memory(u, pre);
    }
    case 'leak_under_gc': {
      // A fast GC sawtooth (2..15 min, 8..20 % of the limit) whose floor rises until a peak hits the limit.
      const floor = rng.uniform(0.25, 0.45);
      const amplitude = rng.uniform(0.08, 0.2);
      const fill = rng.logUniform(1, 12) * STEPS_PER_HOUR;
      const n = pre + Math.ceil(fill * 1.2);
      const gc = sawtooth(rng, n, rng.uniform(4, 30));
      const u = levelAround(rng, n, floor, 'memory');
      for (let i = 0; i < n; i++)
        u[i]! += amplitude * gc[i]! + (i >= pre ? ((1 - floor) * (i - pre)) / fill : 0);
      return memory(u, pre);
    }
    case 'leak_slow_days': {
      // One to three days from onset to the OOM kill, under a daily load cycle.
      const base = rng.uniform(0.2, 0.4);
      const amplitude = rng.uniform(0.03, 0.1);
      const fill = rng.uniform(1, 3) * STEPS_PER_DAY;
      const start = pre + rng.int(4, 8) * STEPS_PER_HOUR;
      const n = start + Math.ceil(fill * 1.2);
      const day = dailyCycle(rng, n);
      const u = levelAround(rng, n, base, 'memory');
      for (let i = 0; i < n; i++)
        u[i]! += amplitude * day[i]! + (i >= start ? ((1 - base) * (i - start)) / fill : 0);
      return memory(u, start);
    }
    case 'leak_after_restart': {
      // A restart, its warm-up, then a leak (exponent 1..1.5) into the limit in 30 min .. 6 h.
      const base = rng.uniform(0.3, 0.6);
      const fill = rng.logUniform(0.5, 6) * STEPS_PER_HOUR;
      const u = levelAround(rng, pre + 200 + Math.ceil(fill * 1.2), base, 'memory');
      const start = restart(rng, u, pre);
      const power = rng.uniform(1, 1.5);
      for (let i = start; i < u.length; i++) u[i]! += (1.02 - base) * ((i - start) / fill) ** power;
      return memory(u, start);
    }
    case 'deploy_then_leak': {
      // A deploy shifts the level up by 5..20 %; 10..60 min later the new version starts leaking (1..8 h).
      const base = rng.uniform(0.2, 0.45);
      const shift = rng.uniform(0.05, 0.2);
      const fill = rng.logUniform(1, 8) * STEPS_PER_HOUR;
      const start = pre + rng.int(20, 120);
      const u = levelAround(rng, start + Math.ceil(fill * 1.2), base, 'memory');
      const ramp = rng.int(1, 3);
      for (let i = pre; i < u.length; i++) {
        u[i]! += shift * Math.min(1, (i - pre + 1) / ramp);
        if (i >= start) u[i]! += ((1.02 - base - shift) * (i - start)) / fill;
      }
      return memory(u, start);
    }
    case 'cpu_ramp': {
      // CPU demand climbing into the limit (traffic growth or a busy loop), linear or logistic, 15 min .. 4 h.
      const base = rng.uniform(0.2, 0.5);
      const fill = rng.logUniform(0.25, 4) * STEPS_PER_HOUR;
      const logistic = rng.next() < 0.5;
      const cap = rng.uniform(0.97, 1);
      const u = levelAround(rng, pre + Math.ceil(fill * 1.5), base, 'cpu');
      for (let i = pre; i < u.length; i++) {
        const x = (i - pre) / fill;
        const shape = logistic ? 1 / (1 + Math.exp(-10 * (x - 0.6))) - 1 / (1 + Math.exp(6)) : x;
        u[i]! += (1.05 - base) * shape;
      }
      return { u, onset: pre, resource: 'cpu', failureLevel: cap };
    }
    // Shapes added for issue 15, written from how workloads fail rather than from what the detector handles.
    case 'cache_chunks_plateau': {
      // An in-process cache (or a loaded data set) that grows in large chunks of about the same size (8..20 % of
      // the limit, each within +-30 %), each loaded in 1..5 samples, with plateaus of 1..6 h between them, until
      // a chunk no longer fits: the last plateau (1..12 h) sits wherever the chunks left it, often above 90 %,
      // sometimes below. Nothing moves on a plateau, so a slope sees nothing there.
      const chunk = rng.uniform(0.08, 0.2);
      const base = rng.uniform(0.2, Math.min(0.45, 1 - 2.6 * chunk));
      const sizes: number[] = [];
      let level = base;
      for (;;) {
        const size = chunk * rng.uniform(0.7, 1.3);
        sizes.push(size);
        if (level + size >= 1.01) break;
        level += size;
      }
      // Chunk k lands at steps[k] over loads[k] samples; the last one is the one that does not fit.
      const loads = sizes.map(() => rng.int(1, 5));
      const steps = [pre];
      for (let k = 1; k < sizes.length - 1; k++)
        steps.push(steps[k - 1]! + Math.round(rng.logUniform(1, 6) * STEPS_PER_HOUR));
      steps.push(steps.at(-1)! + Math.round(rng.logUniform(1, 12) * STEPS_PER_HOUR));
      const n = steps.at(-1)! + 10;
      const u = levelAround(rng, n, base, 'memory');
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < sizes.length; k++) {
          if (i >= steps[k]!) u[i]! += sizes[k]! * Math.min(1, (i - steps[k]! + 1) / loads[k]!);
        }
      }
      return memory(u, pre);
    }
    case 'jvm_xmx_near_limit': {
      // A JVM whose -Xmx plus its non-heap (metaspace, threads, code cache: 5..10 % of the limit) is above the
      // container limit. Healthy, the heap saws between its live set and a GC trigger 20..35 % above it, peaking
      // at 0.75..0.88 of the limit; then the live set grows (1..16 h) and each collection frees less, cycles get
      // shorter as the headroom shrinks, and a peak crosses the limit.
      const nonHeap = rng.uniform(0.05, 0.1);
      const amplitude = rng.uniform(0.2, 0.35);
      const live = rng.uniform(0.75, 0.88) - nonHeap - amplitude;
      const fill = rng.logUniform(1, 16) * STEPS_PER_HOUR;
      const rate = (1 - nonHeap - amplitude - live) / fill;
      const basePeriod = rng.uniform(6, 40);
      const n = pre + Math.ceil(fill * 1.3);
      const u = levelAround(rng, n, nonHeap, 'memory');
      let cycleStart = 0;
      let length = Math.round(basePeriod);
      for (let i = 0; i < n; i++) {
        const floor = live + (i >= pre ? rate * (i - pre) : 0);
        if (i - cycleStart >= length) {
          cycleStart = i;
          // Allocation runs at the same pace; a collection comes sooner when a larger live set leaves less room.
          const room = Math.max(0.15, (1 - nonHeap - floor) / (1 - nonHeap - live));
          length = Math.max(2, Math.round(basePeriod * room * rng.uniform(0.8, 1.2)));
        }
        u[i]! += floor + (amplitude * (i - cycleStart)) / Math.max(1, length - 1);
      }
      return memory(u, pre);
    }
    case 'offheap_growth': {
      // Native memory (direct buffers, malloc arenas, a leaking JNI library) growing in 16..64 MiB-like
      // increments at irregular times under a steady heap sawtooth (cycles of 5..60 min), 2..24 h to the limit.
      const floor = rng.uniform(0.3, 0.45);
      const amplitude = rng.uniform(0.1, 0.25);
      const fill = rng.logUniform(2, 24) * STEPS_PER_HOUR;
      const increment = rng.uniform(0.01, 0.04);
      const count = Math.ceil((1 - floor - amplitude) / increment);
      const meanGap = fill / count;
      const n = pre + Math.ceil(fill * 3);
      const gc = sawtooth(rng, n, rng.uniform(10, 120));
      const u = levelAround(rng, n, floor, 'memory');
      let native = 0;
      let next = pre;
      for (let i = 0; i < n; i++) {
        if (i === next) {
          native += increment * rng.uniform(0.5, 1.5);
          next = i + 1 + Math.round(-meanGap * Math.log(1 - rng.next()));
        }
        u[i]! += amplitude * gc[i]! + native;
      }
      return memory(u, pre);
    }
    case 'restart_storm': {
      // OOMKilled, restarted, leaking again: 2..4 cycles of warm-up and a leak of 20 min .. 3 h into the limit
      // (each kill visible as the drop to a fresh process), the failure predicted being the last one. Earlier
      // kills are history: an alert before them counts as "before onset", though it was right.
      const base = rng.uniform(0.25, 0.5);
      const fill = rng.logUniform(1 / 3, 3) * STEPS_PER_HOUR;
      const cycles = rng.int(2, 4);
      const n = pre + Math.ceil((cycles + 1) * (fill * 1.5 + 200));
      const u = levelAround(rng, n, base, 'memory');
      let start = pre;
      let onset = pre;
      for (let c = 0; c < cycles; c++) {
        onset = start;
        const thisFill = fill * rng.uniform(0.7, 1.3);
        for (let i = start; i < n; i++) u[i]! += ((1.02 - base) * (i - start)) / thisFill;
        if (c === cycles - 1) break;
        let kill = start;
        while (kill < n && u[kill]! < 1) kill++;
        start = restart(rng, u, kill);
        // The warm-up undid the leak: restart() brings usage back towards the level before it, leak included.
        for (let i = kill; i < n; i++) u[i]! -= ((1.02 - base) * (i - onset)) / thisFill;
        for (let i = kill; i < n; i++) u[i] = Math.max(0.01, u[i]!);
      }
      return memory(u, onset);
    }
    case 'leak_at_start': {
      // A pod that dies young: a heap sized above the limit or a bad config, filling from its first sample,
      // warm-up included, into the limit in 8..60 min. No history at all before the fault.
      const level = rng.uniform(0.2, 0.5);
      const tau = rng.uniform(2, 10);
      const fill = rng.logUniform(8, 60) * (60 / STEP_SECONDS);
      const power = rng.uniform(1, 1.6);
      const n = Math.ceil(fill * 1.3) + 10;
      const u = levelAround(rng, n, 0, 'memory');
      for (let i = 0; i < n; i++)
        u[i]! +=
          0.03 + (level - 0.03) * (1 - Math.exp(-(i + 1) / tau)) + (1.02 - level) * (i / fill) ** power;
      return memory(u, 0);
    }
  }
}

// ------------------------------------------------------------------------------------------ benign shapes

function benignSeries(shape: BenignShape, rng: Rng, id: string, n: number): PodSeries {
  switch (shape) {
    case 'gc_sawtooth_high': {
      // A JVM-like heap between ~55 % and 70..86 % of the limit, cycles of 1 .. 20 min.
      const floor = rng.uniform(0.5, 0.62);
      const peak = rng.uniform(0.7, 0.86);
      const gc = sawtooth(rng, n, rng.logUniform(2, 40));
      const u = levelAround(rng, n, floor, 'memory');
      for (let i = 0; i < n; i++) u[i]! += (peak - floor) * gc[i]!;
      return finish(id, shape, rng, 'memory', u, null, null, null);
    }
    case 'diurnal': {
      // Daily load, memory or CPU, peaking at 70..88 % of the limit.
      const resource: Resource = rng.next() < 0.5 ? 'memory' : 'cpu';
      const low = rng.uniform(0.15, 0.4);
      const peak = rng.uniform(0.7, 0.88);
      const day = dailyCycle(rng, n);
      const u = levelAround(rng, n, low, resource);
      for (let i = 0; i < n; i++) u[i]! += (peak - low) * day[i]!;
      return finish(id, shape, rng, resource, u, null, null, null);
    }
    case 'batch_jobs': {
      // A job every 1..6 h for 5..40 min: memory grows through the job and is freed at its end (peak
      // 60..93 %), CPU sits on a plateau (70..97 %, briefly near the limit without demand exceeding it).
      const resource: Resource = rng.next() < 0.5 ? 'memory' : 'cpu';
      const base = rng.uniform(0.12, 0.35);
      const every = rng.uniform(1, 6) * STEPS_PER_HOUR;
      const u = levelAround(rng, n, base, resource);
      for (let t = rng.int(0, Math.round(every)); t < n; t += Math.round(every * rng.uniform(0.8, 1.2))) {
        const length = rng.int(10, 80);
        const peak = resource === 'memory' ? rng.uniform(0.6, 0.93) : rng.uniform(0.7, 0.95);
        const rise = rng.int(2, 10);
        for (let k = 0; k < length && t + k < n; k++) {
          const ramp = Math.min(1, (k + 1) / rise);
          const level = resource === 'memory' ? peak * (0.55 + (0.45 * k) / length) : peak;
          u[t + k] = Math.max(u[t + k]!, ramp * level + (u[t + k]! - base));
        }
      }
      return finish(id, shape, rng, resource, u, null, null, null);
    }
    case 'warmup_after_restart': {
      // Rolling restarts every 8..30 h, each followed by a warm-up back to 35..70 % of the limit.
      const u = levelAround(rng, n, rng.uniform(0.35, 0.7), 'memory');
      for (let t = rng.int(60, 8 * STEPS_PER_HOUR); t < n; t += rng.int(8, 30) * STEPS_PER_HOUR)
        restart(rng, u, t);
      return finish(id, shape, rng, 'memory', u, null, null, null);
    }
    case 'limit_raised': {
      // At 60..80 % of its limit, the limit is raised 1.5..2.5x (30..60 % into the series); the heap then grows
      // into the new limit over 10..60 min, by at least 10 %, to 45..78 % of it. Normalised by the old limit it
      // would look like an OOM in the making.
      const oldLevel = rng.uniform(0.6, 0.8);
      const factor = rng.uniform(1.5, 2.5);
      const newLevel = rng.uniform(Math.max(0.45, (1.1 * oldLevel) / factor), 0.78);
      const at = rng.int(Math.round(0.3 * n), Math.round(0.6 * n));
      const growth = rng.int(20, 120);
      const u = levelAround(rng, n, 0, 'memory');
      for (let i = 0; i < n; i++) {
        const target =
          i < at
            ? oldLevel
            : oldLevel / factor + (newLevel - oldLevel / factor) * Math.min(1, (i - at) / growth);
        u[i]! += target;
      }
      return finish(id, shape, rng, 'memory', u, { at, factor }, null, null);
    }
    case 'deploy_shift': {
      // One to three deploys, each moving the level by 5..25 % of the limit, always within 10..75 %.
      const resource: Resource = rng.next() < 0.7 ? 'memory' : 'cpu';
      let level = rng.uniform(0.2, 0.5);
      const u = levelAround(rng, n, 0, resource);
      const deploys = Array.from({ length: rng.int(1, 3) }, () => rng.int(2 * STEPS_PER_HOUR, n - 1)).sort(
        (a, b) => a - b,
      );
      let previous = level;
      let d = 0;
      for (let i = 0; i < n; i++) {
        if (d < deploys.length && i === deploys[d]) {
          previous = level;
          const delta = rng.uniform(0.05, 0.25) * (rng.next() < 0.5 ? -1 : 1);
          level = Math.min(0.75, Math.max(0.1, level + delta));
          d++;
        }
        const since = d > 0 ? i - deploys[d - 1]! : Number.POSITIVE_INFINITY;
        u[i]! += previous + (level - previous) * Math.min(1, (since + 1) / 3);
      }
      return finish(id, shape, rng, resource, u, null, null, null);
    }
    case 'cache_full': {
      // A cache that fills (smoothly or in chunks) within 1..6 h to 0.89..0.93 of the limit, its configured
      // size, and stays there for days: at the level a static 90 % rule pages on, and harmless.
      const top = rng.uniform(0.89, 0.93);
      const start = rng.uniform(0.2, 0.4);
      const fillEnd = Math.round(rng.uniform(1, 6) * STEPS_PER_HOUR);
      const chunked = rng.next() < 0.5;
      const chunks = rng.int(3, 8);
      const u = arNoise(rng, n, rng.uniform(0.001, 0.004), rng.uniform(0.5, 0.9));
      for (let i = 0; i < n; i++) {
        const x = Math.min(1, i / fillEnd);
        const fillShare = chunked ? Math.floor(x * chunks) / chunks : 1 - (1 - x) ** 2;
        u[i] = Math.min(0.945, u[i]! + start + (top - start) * fillShare);
      }
      return finish(id, shape, rng, 'memory', u, null, null, null);
    }
    case 'diurnal_high': {
      // Daily load peaking near the static rule's line, 0.86..0.93 of the limit, every day alike.
      const resource: Resource = rng.next() < 0.5 ? 'memory' : 'cpu';
      const low = rng.uniform(0.3, 0.5);
      const peak = rng.uniform(0.86, 0.93);
      const day = dailyCycle(rng, n);
      const u = arNoise(rng, n, rng.uniform(0.002, 0.006), rng.uniform(0.3, 0.9));
      for (let i = 0; i < n; i++) u[i] = Math.min(0.945, u[i]! + low + (peak - low) * day[i]!);
      return finish(id, shape, rng, resource, u, null, null, null);
    }
    case 'batch_high': {
      // Jobs every 2..8 h for 10..60 min that take the pod to 0.9..0.945 of its limit and end (memory freed, CPU
      // idle again): benign bursts above the static rule's line.
      const resource: Resource = rng.next() < 0.5 ? 'memory' : 'cpu';
      const base = rng.uniform(0.15, 0.35);
      const every = rng.uniform(2, 8) * STEPS_PER_HOUR;
      const u = levelAround(rng, n, base, resource);
      for (let t = rng.int(0, Math.round(every)); t < n; t += Math.round(every * rng.uniform(0.7, 1.3))) {
        const length = rng.int(20, 120);
        const peak = rng.uniform(0.9, 0.945);
        const rise = rng.int(2, 20);
        for (let k = 0; k < length && t + k < n; k++) {
          const ramp = Math.min(1, (k + 1) / rise);
          const level = resource === 'memory' ? peak * (0.8 + (0.2 * k) / length) : peak;
          u[t + k] = Math.min(0.945, ramp * level + 0.3 * (u[t + k]! - base));
        }
      }
      return finish(id, shape, rng, resource, u, null, null, null);
    }
    case 'warmup_at_start': {
      // A new pod: from a few MiB to its working level (0.4..0.8) in 1..30 min (class loading, JIT, pools),
      // sometimes overshooting by up to 10 %, then steady for days. What a leak right after start looks like
      // for its first minutes.
      const level = rng.uniform(0.4, 0.8);
      const tau = rng.uniform(2, 60);
      const overshoot = rng.next() < 0.5 ? rng.uniform(0, 0.1) : 0;
      const u = levelAround(rng, n, 0, 'memory');
      for (let i = 0; i < n; i++) {
        const x = (i + 1) / tau;
        u[i]! += 0.03 + (level - 0.03) * (1 - Math.exp(-x)) + overshoot * x * Math.exp(1 - x);
      }
      return finish(id, shape, rng, 'memory', u, null, null, null);
    }
  }
}

// ------------------------------------------------------------------------------------------ absolute units

function finish(
  id: string,
  shape: Shape,
  rng: Rng,
  resource: Resource,
  u: Float64Array,
  limitChange: { at: number; factor: number } | null,
  onsetIndex: number | null,
  failureIndex: number | null,
): PodSeries {
  const limit =
    resource === 'memory' ? rng.pick([256, 512, 1024, 2048, 4096]) * MiB : rng.pick([0.5, 1, 2, 4]);
  const limits = Float64Array.from(u, (_, i) =>
    limitChange && i >= limitChange.at ? roundLimit(limit * limitChange.factor, resource) : limit,
  );
  const values = Float64Array.from(u, (x, i) => {
    const usage = Math.max(0.005, x) * limits[i]!;
    return resource === 'memory' ? Math.round(usage) : Math.round(usage * 1e5) / 1e5;
  });
  return {
    id,
    shape,
    faulty: onsetIndex !== null,
    resource,
    startAt: START_AT,
    stepSeconds: STEP_SECONDS,
    values,
    limits,
    onsetIndex,
    failureIndex,
  };
}

/** Limits are set in whole MiB. */
function roundLimit(limit: number, resource: Resource): number {
  return resource === 'memory' ? Math.round(limit / MiB) * MiB : Math.round(limit * 100) / 100;
}
