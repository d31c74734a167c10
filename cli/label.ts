import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { incidentIdOf } from '../functions/inference/core/series-keys.js';
import { KubepulseError } from '../functions/shared/errors.js';
import {
  type CliDeps,
  FeedbackLabel,
  findOpening,
  parseSeriesKey,
  redisUrlOf,
  runCli,
  scanRecordedSeries,
  trainingKeys,
  UsageError,
  withRedis,
} from './export-training.js';

/**
 * `kubepulse label <incident> --true|--false`: a human's verdict on a usage incident, kept in Redis
 * (`kp:feedback:<incidentId>`, no expiry) for `kubepulse export-training` to hand to the models' training.
 * The label records where the incident is (series and opening sample), found while it can still be found:
 * an open incident is in its series' state; a resolved one is found by its id, which is a hash of the series
 * and the opening sample, as long as that sample is still in the series' window; older ones need
 * `--series` and `--opened-at` (from the anomaly message's target, metric and detectedAt), checked the same way.
 */
export const LABEL_USAGE = `usage: kubepulse label <incident-id> --true|--false [--note <text>] [--by <name>]
                       [--resolved-at <unix s>] [--series <cluster|ns|pod|container|metric> --opened-at <unix s>]
                       [--redis <url>]

  label   say whether a usage incident was real (--true: it was heading for exhaustion) or a false alarm
          (--false); export-training hands the verdict to the models' training. Labelling again replaces it.
          environment: REDIS_URL unless --redis`;

export interface LabelRequest {
  incidentId: string;
  verdict: FeedbackLabel['verdict'];
  note?: string;
  by: string;
  resolvedAt?: number;
  at?: { seriesKey: string; openedAt: number };
}

export interface LabelOutcome {
  label: FeedbackLabel;
  replaced: FeedbackLabel | null;
  foundBy: 'given' | 'open-incident' | 'window';
}

export class IncidentNotFoundError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'incident-not-found';
}

export async function labelIncident(redis: Redis, request: LabelRequest, now: Date): Promise<LabelOutcome> {
  const located = request.at
    ? verifyGiven(request.incidentId, request.at)
    : await locate(redis, request.incidentId);
  const clusterId = parseSeriesKey(located.seriesKey)!.clusterId;
  const label: FeedbackLabel = {
    schemaVersion: 1,
    incidentId: request.incidentId,
    seriesKey: located.seriesKey,
    clusterId,
    openedAt: located.openedAt,
    resolvedAt: request.resolvedAt ?? null,
    verdict: request.verdict,
    ...(request.note ? { note: request.note } : {}),
    labelledBy: request.by,
    labelledAt: now.toISOString(),
  };
  const previous = await redis.set(
    trainingKeys.feedback(request.incidentId),
    JSON.stringify(FeedbackLabel.parse(label)),
    'GET',
  );
  const replaced = previous === null ? null : (FeedbackLabel.safeParse(JSON.parse(previous)).data ?? null);
  return { label, replaced, foundBy: located.foundBy };
}

function verifyGiven(incidentId: string, at: { seriesKey: string; openedAt: number }) {
  if (!parseSeriesKey(at.seriesKey)) {
    throw new UsageError(
      `--series ${at.seriesKey} is not a scored series key (cluster|ns|pod|container|metric)`,
    );
  }
  if (incidentIdOf(at.seriesKey, at.openedAt) !== incidentId) {
    throw new IncidentNotFoundError(
      `incident ${incidentId} did not open on ${at.seriesKey} at ${at.openedAt} (the id would be ${incidentIdOf(at.seriesKey, at.openedAt)})`,
    );
  }
  return { ...at, foundBy: 'given' as const };
}

async function locate(redis: Redis, incidentId: string) {
  for await (const series of scanRecordedSeries(redis)) {
    const openedAt = findOpening(series, incidentId);
    if (openedAt === null) continue;
    const foundBy = series.openIncident?.incidentId === incidentId ? 'open-incident' : 'window';
    return { seriesKey: series.seriesKey, openedAt, foundBy } as const;
  }
  throw new IncidentNotFoundError(
    `no incident ${incidentId} in the recorded series (its opening sample has left the window, or the series expired): ` +
      'give --series and --opened-at from its anomaly message (target, metric, detectedAt)',
  );
}

export async function runLabelCommand(argv: readonly string[], deps: CliDeps): Promise<number> {
  return runCli(deps, LABEL_USAGE, async () => {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        true: { type: 'boolean', default: false },
        false: { type: 'boolean', default: false },
        note: { type: 'string' },
        by: { type: 'string' },
        'resolved-at': { type: 'string' },
        series: { type: 'string' },
        'opened-at': { type: 'string' },
        redis: { type: 'string' },
      },
    });
    const [incidentId, ...extra] = positionals;
    if (!incidentId || extra.length > 0) throw new UsageError('label takes one incident id');
    if (values.true === values.false) throw new UsageError('say --true or --false');
    if ((values.series === undefined) !== (values['opened-at'] === undefined)) {
      throw new UsageError('--series and --opened-at go together');
    }
    const request: LabelRequest = {
      incidentId,
      verdict: values.true ? 'true-positive' : 'false-positive',
      by: values.by ?? deps.env.KUBEPULSE_USER ?? deps.env.USER ?? userInfo().username,
      ...(values.note ? { note: values.note } : {}),
      ...(values['resolved-at'] ? { resolvedAt: unixSeconds('--resolved-at', values['resolved-at']) } : {}),
      ...(values.series && values['opened-at']
        ? { at: { seriesKey: values.series, openedAt: unixSeconds('--opened-at', values['opened-at']) } }
        : {}),
    };
    const now = (deps.clock ?? (() => new Date()))();
    const outcome = await withRedis(redisUrlOf(values.redis, deps.env), (redis) =>
      labelIncident(redis, request, now),
    );
    const { label, replaced } = outcome;
    deps.out(
      `labelled ${label.incidentId} ${label.verdict} (${label.seriesKey}, opened ${new Date(label.openedAt * 1000).toISOString()})` +
        (replaced
          ? `; replaces ${replaced.verdict} by ${replaced.labelledBy} at ${replaced.labelledAt}`
          : ''),
    );
    return 0;
  });
}

function unixSeconds(flag: string, text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text) / 1000;
  if (!Number.isInteger(value) || value < 0)
    throw new UsageError(`${flag} takes unix seconds or an ISO time`);
  return value;
}
