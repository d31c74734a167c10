/**
 * The limit guard: evidence about running out that needs no model, so no shape of growth is blind to it.
 *
 * The models forecast a series' path from its last 32 minutes. Two things they cannot see:
 * - **a level already near the limit** that does not move (a cache that grew in chunks and sits at 92 %): the
 *   forecast is flat, the shape is "normal", and the next chunk kills the pod. Operators' static rule pages on
 *   it (`usage > 0.9 * limit`), and users hold us to never missing what that rule would catch.
 * - **growth in large, infrequent steps**: the window holds one plateau, the step before it is hours old.
 *
 * So the guard raises evidence when either holds:
 * - `near-limit`: usage at or above `NEAR_LIMIT` of its limit, unless the series has shown it lives there
 *   harmlessly (below);
 * - `step-growth`: the series has grown in at least `MIN_STEPS` upward steps (each at least `MIN_STEP` of the
 *   limit, none older than `STEP_MEMORY_SECONDS`, no fall of `FALL_RESET` since), and one more step of their mean
 *   size would reach the limit.
 *
 * Both must hold for `GUARD_FOR_SECONDS` (the static rule's `for: 2m`) before they count. For `near-limit` the two
 * minutes are summed over an episode: usage at or above `NEAR_LIMIT`, which lasts while it stays above
 * `NEAR_LIMIT - NEAR_LIMIT_DEADBAND` or dips below for less than `EPISODE_GAP_SECONDS`. So it fires whenever the
 * static rule would (two minutes in a row are two minutes summed) and also on peaks that touch the limit for a
 * minute each GC cycle, which the static rule never sees; and noise around 90 % is one episode, not many.
 *
 * "Shown it lives there harmlessly" (habituation), per level `x`, judged at `x - HABIT_MARGIN` (in `HABIT_BIN`
 * bins from `HABIT_FLOOR` up), one of:
 * - it has lived there: at least `HABIT_LONG_DWELL_SECONDS` in all (a cache that filled to its size and stays);
 * - it went there and came back down at least `HABIT_VISITS` times, the first more than `HABIT_VISIT_SPAN_SECONDS`
 *   ago (a batch job's burst, a GC peak);
 * - it went there and came back down, the first time more than `HABIT_SPAN_SECONDS` ago, for at least
 *   `HABIT_DWELL_SECONDS` in all (yesterday's daily peak).
 * Dwell time decays with a half-life of `HABIT_HALF_LIFE_SECONDS`, so a level visited once a month ago is new
 * again. A level above all the series has lived at is never habituated: a rise to a new level always counts. A
 * kill (usage falling from `KILLED_FROM` to a fresh process's `KILLED_BELOW`) forgets all of it: that level was
 * not harmless. Habituation only ever silences `near-limit`; `step-growth` ends when no step has come for
 * `STEP_MEMORY_SECONDS`.
 *
 * State per series: three arrays of `HABIT_BINS` integers and a handful of numbers (under 1 KB as JSON), reset
 * when the limit changes (levels against the old limit mean nothing against the new one).
 */
export const NEAR_LIMIT = 0.9;
export const NEAR_LIMIT_DEADBAND = 0.02;
export const GUARD_FOR_SECONDS = 120;
export const EPISODE_GAP_SECONDS = 600;
export const HABIT_FLOOR = 0.7;
export const HABIT_BIN = 0.01;
export const HABIT_BINS = 30;
export const HABIT_MARGIN = 0.02;
export const HABIT_DWELL_SECONDS = 3600;
export const HABIT_SPAN_SECONDS = 20 * 3600;
export const HABIT_LONG_DWELL_SECONDS = 12 * 3600;
export const HABIT_VISITS = 1;
export const HABIT_VISIT_SPAN_SECONDS = 2 * 3600;
export const KILLED_FROM = 0.85;
export const KILLED_BELOW = 0.1;
export const HABIT_HALF_LIFE_SECONDS = 7 * 86_400;
/** A gap in the samples counts for at most this long (a series that was not scraped was not seen there). */
export const MAX_GAP_SECONDS = 300;

export const MIN_STEPS = 2;
export const MIN_STEP = 0.04;
export const STEP_MEMORY_SECONDS = 24 * 3600;
export const FALL_RESET = 0.05;
/** Once `step-growth` holds, it holds while one more step would come this close to the exhaustion level. */
export const STEP_RISK_DEADBAND = 0.03;
/** A departure from the plateau is a step once this many samples in a row agree on a new level. */
export const SETTLE_SAMPLES = 4;
/** The smallest departure from the plateau that can be a step, whatever the noise. */
const MIN_BAND = 0.02;
/** The band is this many times the plateau's mean absolute deviation. */
const BAND_NOISE = 5;
/** Samples over which the plateau's level and noise average. */
const PLATEAU_MEMORY = 30;
const MAX_STEPS_KEPT = 4;

/**
 * For this long after its limit was raised, a series' growth is what the raise was for (a heap sized as a share of
 * the limit grows into it): the classifier's shape evidence alone does not open an incident then (a forecast
 * reaching the new limit and the guard still do).
 */
export const LIMIT_RAISE_GRACE_SECONDS = 2 * 3600;

export function inLimitRaiseGrace(state: GuardState | null, at: number): boolean {
  return state?.limitRaisedAt !== undefined && at - state.limitRaisedAt < LIMIT_RAISE_GRACE_SECONDS;
}

export type GuardReason = 'near-limit' | 'step-growth';

interface StepState {
  /** The current plateau's level and mean absolute deviation, and how many samples it has. */
  level: number;
  noise: number;
  count: number;
  /** A run of samples off the plateau on one side: its length, sign, sum, lowest and highest value. */
  run: number;
  runSign: number;
  runSum: number;
  runLow: number;
  runHigh: number;
  /** Recent upward steps: [size, unix seconds], oldest first. */
  ups: Array<[number, number]>;
}

export interface GuardState {
  /** The limit the levels are shares of; a change resets the state. */
  denominator: number;
  lastAt: number;
  /** Seconds spent at or above each bin's level (decayed), and when the series first got there (0: never). */
  dwell: number[];
  firstAt: number[];
  /** How often the series came back down from each bin's level (below it by HABIT_MARGIN). */
  visits: number[];
  /** The highest bin of the current excursion not yet left; the previous level; since when each reason holds. */
  excursionTop: number;
  lastLevel: number;
  /** The near-limit episode: seconds at or above NEAR_LIMIT in it, and when it was last above the deadband. */
  nearSeconds: number;
  nearLastAt: number;
  nearPeak: number;
  stepSince: number;
  step: StepState;
  /** When the limit was last raised (absent: not while this state was kept), see LIMIT_RAISE_GRACE_SECONDS. */
  limitRaisedAt?: number;
}

export interface GuardReading {
  reason: GuardReason | null;
  /** Whether the level is one the series has shown it lives at harmlessly. */
  habituated: boolean;
  /** Where one more step like the recent ones would take the level; null without a step history. */
  nextStepLevel: number | null;
}

export function initialGuard(denominator: number, at: number, level: number): GuardState {
  return {
    denominator,
    lastAt: at,
    dwell: new Array(HABIT_BINS).fill(0),
    firstAt: new Array(HABIT_BINS).fill(0),
    visits: new Array(HABIT_BINS).fill(0),
    excursionTop: -1,
    lastLevel: level,
    nearSeconds: 0,
    nearLastAt: 0,
    nearPeak: 0,
    stepSince: 0,
    step: {
      level,
      noise: 0,
      count: 1,
      run: 0,
      runSign: 0,
      runSum: 0,
      runLow: 0,
      runHigh: 0,
      ups: [],
    },
  };
}

/** The bin whose level is the highest at or below `level`; -1 below the floor. */
function binOf(level: number): number {
  if (level < HABIT_FLOOR) return -1;
  return Math.min(HABIT_BINS - 1, Math.floor((level - HABIT_FLOOR) / HABIT_BIN + 1e-9));
}

export function habituated(state: GuardState, level: number, at: number): boolean {
  const bin = binOf(level - HABIT_MARGIN);
  if (bin < 0) return true;
  // The top bin also holds every level above it: a level past all bins is only habituated if it lived there.
  if (level - HABIT_MARGIN > HABIT_FLOOR + HABIT_BINS * HABIT_BIN) return false;
  const dwell = state.dwell[bin]!;
  const since = state.firstAt[bin]! > 0 ? at - state.firstAt[bin]! : 0;
  const visits = state.visits[bin]!;
  if (dwell >= HABIT_LONG_DWELL_SECONDS) return true;
  if (visits >= HABIT_VISITS && since >= HABIT_VISIT_SPAN_SECONDS) return true;
  return visits >= 1 && dwell >= HABIT_DWELL_SECONDS && since >= HABIT_SPAN_SECONDS;
}

/**
 * Reads `level` (usage as a share of the limit `denominator`) at `at` against the series' state and returns the
 * state that includes it. The reading is taken before the sample is learnt: a level is never its own proof of
 * harmlessness. `stored` is not modified unless `owned` says the caller owns it (the scoring path keeps one working
 * copy per series and batch: copying three arrays per sample cost as much as the rest of the guard).
 */
export function observeGuard(
  stored: GuardState | null,
  level: number,
  at: number,
  denominator: number,
  exhaustionLevel: number,
  owned = false,
): { state: GuardState; reading: GuardReading } {
  const killed =
    stored !== null &&
    stored.lastLevel >= KILLED_FROM &&
    level < KILLED_BELOW &&
    stored.denominator === denominator;
  const fresh = stored === null || stored.denominator !== denominator || killed;
  const raised = stored !== null && denominator > stored.denominator;
  const state: GuardState = fresh
    ? {
        ...initialGuard(denominator, at, level),
        ...(raised
          ? { limitRaisedAt: at }
          : stored?.limitRaisedAt !== undefined
            ? { limitRaisedAt: stored.limitRaisedAt }
            : {}),
      }
    : owned
      ? stored
      : {
          ...stored,
          dwell: [...stored.dwell],
          firstAt: [...stored.firstAt],
          visits: [...stored.visits],
          step: { ...stored.step, ups: [...stored.step.ups] },
        };
  const step = state.step;
  if (step.ups.length > 0 && at - step.ups[0]![1] > STEP_MEMORY_SECONDS)
    step.ups = step.ups.filter(([, t]) => at - t <= STEP_MEMORY_SECONDS);
  if (!fresh) updateSteps(step, level, at);

  let nextStepLevel: number | null = null;
  if (step.ups.length >= MIN_STEPS) {
    let sum = 0;
    for (const [size] of step.ups) sum += size;
    nextStepLevel = step.level + sum / step.ups.length;
  }
  // The near-limit episode (see above): time at or above the line adds up while it lasts, and the evidence holds
  // for the whole episode, troughs included, so a sawtooth touching the line is one incident, not one per cycle.
  const dt = Math.max(0, Math.min(MAX_GAP_SECONDS, at - state.lastAt));
  const alive = state.nearLastAt > 0 && at - state.nearLastAt < EPISODE_GAP_SECONDS;
  if (!alive) {
    state.nearSeconds = 0;
    state.nearPeak = 0;
  }
  if (level >= NEAR_LIMIT) {
    if (alive) state.nearSeconds += dt;
    state.nearLastAt = at;
  } else if (alive && level >= NEAR_LIMIT - NEAR_LIMIT_DEADBAND) {
    state.nearLastAt = at;
  }
  const near = state.nearLastAt > 0 && at - state.nearLastAt < EPISODE_GAP_SECONDS;
  if (near) state.nearPeak = Math.max(state.nearPeak, level);
  // An episode is judged by its highest level: its troughs are not what it risks.
  const isHabituated = habituated(state, near ? state.nearPeak : level, at);
  // Once at risk, it stays so within a deadband: a plateau's noise must not turn one risk into many incidents.
  const stepRisk =
    nextStepLevel !== null &&
    nextStepLevel >= exhaustionLevel - (state.stepSince > 0 ? STEP_RISK_DEADBAND : 0);
  state.stepSince = stepRisk ? state.stepSince || at : 0;
  const reason: GuardReason | null =
    near && !isHabituated && state.nearSeconds >= GUARD_FOR_SECONDS
      ? 'near-limit'
      : stepRisk && at - state.stepSince >= GUARD_FOR_SECONDS
        ? 'step-growth'
        : null;

  // Learn the sample: dwell at every bin at or below it, decayed by the time since the last sample.
  const decay = 2 ** (-dt / HABIT_HALF_LIFE_SECONDS);
  const top = binOf(level);
  state.excursionTop = Math.max(state.excursionTop, top);
  // Bins this far above the level have been left: a visit to each of them (up to the excursion's top) ended.
  const backDown = binOf(level + HABIT_MARGIN);
  const left = state.excursionTop;
  if (backDown < left) state.excursionTop = backDown;
  for (let b = 0; b < HABIT_BINS; b++) {
    let dwell = state.dwell[b]! * decay;
    if (b <= top) {
      dwell += dt;
      if (state.firstAt[b] === 0) state.firstAt[b] = at;
    }
    state.dwell[b] = Math.round(dwell);
    // Came back down from this bin: it was at or above it, and is now below it by the margin.
    if (b > backDown && b <= left) state.visits[b]!++;
  }
  state.lastAt = at;
  state.lastLevel = level;
  return { state, reading: { reason, habituated: isHabituated, nextStepLevel } };
}

/**
 * Tracks the series' plateau and the steps between plateaus. A sample within the band (`BAND_NOISE` times the
 * plateau's noise, at least `MIN_BAND`) belongs to the plateau; `SETTLE_SAMPLES` in a row on one side of it that
 * agree within the band are a new plateau, and the difference a step. A ramp that never settles is no step (the
 * forecaster's case); a fall of `FALL_RESET` below the plateau (a collection, a freed cache, a restart) forgets the
 * upward steps: what comes back down is not accumulating.
 */
function updateSteps(step: StepState, level: number, at: number): void {
  const band = Math.max(MIN_BAND, BAND_NOISE * step.noise);
  const departure = level - step.level;
  if (departure <= -FALL_RESET) step.ups = [];
  if (Math.abs(departure) <= band) {
    const weight = 1 / Math.min(step.count + 1, PLATEAU_MEMORY);
    step.level += weight * departure;
    step.noise += weight * (Math.abs(departure) - step.noise);
    step.count++;
    step.run = 0;
    return;
  }
  const sign = Math.sign(departure);
  if (step.run === 0 || sign !== step.runSign) {
    step.run = 1;
    step.runSign = sign;
    step.runSum = level;
    step.runLow = level;
    step.runHigh = level;
  } else {
    step.run++;
    step.runSum += level;
    step.runLow = Math.min(step.runLow, level);
    step.runHigh = Math.max(step.runHigh, level);
    if (step.runHigh - step.runLow > band) {
      // Still moving: start the run again from here.
      step.run = 1;
      step.runSum = level;
      step.runLow = level;
      step.runHigh = level;
    }
  }
  if (step.run < SETTLE_SAMPLES) return;
  const newLevel = step.runSum / step.run;
  const size = newLevel - step.level;
  if (size >= MIN_STEP) {
    step.ups.push([Math.round(size * 1e4) / 1e4, at]);
    if (step.ups.length > MAX_STEPS_KEPT) step.ups.shift();
  }
  step.level = newLevel;
  step.noise = Math.min(step.noise, (step.runHigh - step.runLow) / 2);
  step.count = step.run;
  step.run = 0;
}
