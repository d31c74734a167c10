import type { FailureReason } from '../../shared/contracts/index.js';

/** One series of a query_range result: its labels and [unix seconds, value] points. */
export interface RangeSeries {
  labels: Record<string, string>;
  points: Array<[number, number]>;
}

export interface PrometheusPort {
  /** Evaluates `query` at every step from start to end (inclusive); throws a retryable error when unreachable. */
  queryRange(query: string, start: number, end: number, stepSeconds: number): Promise<RangeSeries[]>;
}

/** Where the shipper remembers the last step it delivered, so a restart backfills instead of leaving a gap. */
export interface CheckpointStore {
  load(): Promise<number | undefined>;
  save(samplesThrough: number): Promise<void>;
}

export interface LogTailRequest {
  namespace: string;
  pod: string;
  container: string;
  /** The log of the previous (terminated) instance: what an OOMKilled or crashing container printed last. */
  previous: boolean;
  reason: FailureReason;
}

/** The last lines a container printed, or undefined when they cannot be had (no kubelet, no permission). */
export interface LogSource {
  tail(request: LogTailRequest): Promise<string | undefined>;
}

export interface OutgoingEntry {
  id: string;
  body: string;
}

export interface SendOutcome {
  /** Entries SQS refused for a reason retrying cannot fix (the sender's fault). */
  rejected: Map<string, string>;
  /** Entries to try again. */
  failed: Map<string, string>;
}

/** One SendMessageBatch call: at most 10 entries within 256 KiB (the caller groups them). */
export interface QueueSender {
  sendBatch(entries: readonly OutgoingEntry[]): Promise<SendOutcome>;
}
