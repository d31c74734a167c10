// Tuning aid for unusual-behaviour episodes: runs the detector and the episode rule directly (no Redis, no models)
// on the benign series of a bench:faults suite and prints unusual-behaviour incidents per 100 benign pod-days per
// shape, for a few open scores and cooldowns. Choose on a tuning seed (4242, 5151, 6262); bench:faults reports the
// held-out seed through the production core.
//   node --import tsx test/bench/unusual/episodes.ts [--seed 4242]
import { parseArgs } from 'node:util';
import { initialUnusualState, observeUnusual } from '../../../functions/inference/core/unusual/detector.js';
import { MIN_SAMPLES_TO_OPEN } from '../../../functions/inference/core/unusual/episode.js';
import { DEFAULT_SUITE, generateSuite, podDays } from '../faults/generator.js';

const { values: args } = parseArgs({ options: { seed: { type: 'string', default: '4242' } } });
const suite = generateSuite({ ...DEFAULT_SUITE, seed: Number(args.seed) }).filter((s) => !s.faulty);
const scoresOf = suite.map((s) => {
  let state = initialUnusualState();
  return Array.from(s.values, (_, i) => {
    const observed = observeUnusual(state, s.values, i);
    state = observed.state;
    return i + 1 >= MIN_SAMPLES_TO_OPEN ? observed.reading.score : 0;
  });
});
const days = suite.reduce((d, s) => d + podDays(s), 0);
const QUIET_SECONDS = 3600;
for (const open of [0.8, 0.85, 0.9, 0.95]) {
  for (const cooldownHours of [6, 12, 24]) {
    const byShape = new Map<string, number>();
    let total = 0;
    suite.forEach((s, k) => {
      // The episode rule of unusual/episode.ts, with the open score and cooldown as variables.
      let openSince: number | null = null;
      let lastUnusual = 0;
      let quietUntil = 0;
      scoresOf[k]!.forEach((score, i) => {
        const at = s.startAt + i * s.stepSeconds;
        const unusual = score >= open;
        if (openSince === null) {
          if (unusual && at >= quietUntil) {
            openSince = at;
            lastUnusual = at;
            total++;
            byShape.set(s.shape, (byShape.get(s.shape) ?? 0) + 1);
          }
        } else if (unusual) lastUnusual = at;
        else if (at - lastUnusual >= QUIET_SECONDS) {
          openSince = null;
          quietUntil = at + cooldownHours * 3600;
        }
      });
    });
    const shapes = [...byShape].map(([shape, n]) => `${shape} ${n}`).join(', ');
    console.log(
      `open ${open} cooldown ${cooldownHours} h: ${((100 * total) / days).toFixed(1)} per 100 pod-days (${shapes})`,
    );
  }
}
