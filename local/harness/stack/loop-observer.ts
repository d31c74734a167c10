// Watches the closed loop from the outside, through what the Lambda sandboxes were handed: the anomalies and
// execution results the planner received, the alerts the notifier received. Redeliveries are folded (ids are
// deterministic), so each fact is recorded once, with the time it was first seen.
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import {
  type Alert,
  Alert as AlertSchema,
  type Anomaly,
  Anomaly as AnomalySchema,
  decodeMessageBody,
  type ExecutionResult,
  ExecutionResult as ExecutionResultSchema,
} from '../../../functions/shared/contracts/index.js';
import type { InvocationReport } from '../lambda-runner/sqs-event-source.js';

export type LoopEvent =
  | { kind: 'anomaly'; seenAt: number; anomaly: Anomaly }
  | { kind: 'result'; seenAt: number; result: ExecutionResult }
  | { kind: 'alert'; seenAt: number; alert: Alert };

/**
 * When an anomaly moved along the path to the planner, from the records the planner's trigger handed it (epoch ms):
 * sent by the inference function (the moment it was detected, SQS's SentTimestamp), first received by the trigger's
 * poller, the planner invoked (its batching window over), and that invocation finished (its plans sent).
 */
export interface AnomalyTiming {
  sentAt: number;
  firstReceivedAt: number;
  invokedAt: number;
  plannedAt: number;
}

export class LoopObserver {
  readonly anomalies: Anomaly[] = [];
  readonly results: ExecutionResult[] = [];
  readonly alerts: Alert[] = [];
  readonly events: LoopEvent[] = [];
  readonly invocations = new Map<string, { count: number; failedRecords: number }>();
  /** By anomalyId, from its first delivery to the planner. */
  readonly anomalyTimings = new Map<string, AnomalyTiming>();
  private readonly seen = new Set<string>();

  constructor(private readonly listener?: (event: LoopEvent) => void) {}

  /** Plug into startPackagedStack / startLocalStack as `onInvoke`. */
  readonly onInvoke = (functionKey: string, report: InvocationReport): void => {
    const tally = this.invocations.get(functionKey) ?? { count: 0, failedRecords: 0 };
    tally.count += 1;
    tally.failedRecords += report.failed.length;
    this.invocations.set(functionKey, tally);
    for (const { record, body } of bodiesOf(report.event)) this.record(functionKey, body, record, report);
  };

  private record(functionKey: string, body: unknown, sqsRecord: SQSRecord, report: InvocationReport): void {
    const now = Date.now();
    if (functionKey === 'planner') {
      const anomaly = AnomalySchema.safeParse(body);
      if (anomaly.success) {
        if (this.firstTime(`a:${anomaly.data.anomalyId}`)) {
          this.anomalies.push(anomaly.data);
          this.anomalyTimings.set(anomaly.data.anomalyId, {
            sentAt: Number(sqsRecord.attributes.SentTimestamp),
            firstReceivedAt: Number(sqsRecord.attributes.ApproximateFirstReceiveTimestamp),
            invokedAt: report.startedAt,
            plannedAt: report.handlerSettledAt,
          });
          this.emit({ kind: 'anomaly', seenAt: now, anomaly: anomaly.data });
        }
        return;
      }
      const result = ExecutionResultSchema.safeParse(body);
      if (result.success && this.firstTime(`r:${result.data.planId}:${result.data.status}`)) {
        this.results.push(result.data);
        this.emit({ kind: 'result', seenAt: now, result: result.data });
      }
    } else if (functionKey === 'notifier') {
      const alert = AlertSchema.safeParse(body);
      if (alert.success && this.firstTime(`l:${alert.data.alertId}`)) {
        this.alerts.push(alert.data);
        this.emit({ kind: 'alert', seenAt: now, alert: alert.data });
      }
    }
  }

  private firstTime(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  private emit(event: LoopEvent): void {
    this.events.push(event);
    this.listener?.(event);
  }
}

function* bodiesOf(event: SQSEvent): Generator<{ record: SQSRecord; body: unknown }> {
  for (const record of event.Records) {
    try {
      yield { record, body: decodeMessageBody(record.body) };
    } catch {
      // a malformed record: the function quarantines it; nothing to observe
    }
  }
}

/** The owning workload's name of an anomaly's pod, e.g. `cart` for `cart-6f7d9-k2x4q`. */
export function workloadOf(anomaly: Anomaly): string {
  return anomaly.target.owner?.name ?? anomaly.target.pod.replace(/-[a-z0-9]{5,10}-[a-z0-9]{5}$/, '');
}
