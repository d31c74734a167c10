// The one definition of kubepulse's queues and their dead-letter queues.
// serverless.yml turns it into CloudFormation; local/ creates the same queues in the SQS emulator.
// CommonJS so that the Serverless Framework's `${file(...)}` resolver (which uses require) can load it.

/**
 * @typedef {object} QueueDefinition
 * @property {string} key              stable key used by code and config (e.g. `samples`)
 * @property {string} logicalId        CloudFormation logical id of the main queue
 * @property {boolean} fifo            FIFO queues keep per-group order and deduplicate by id
 * @property {number} visibilityTimeoutSeconds  at least 6x the consumer's timeout, as AWS advises for Lambda triggers
 * @property {number} maxReceiveCount  deliveries before a message is moved to the DLQ
 * @property {number} retentionSeconds retention of the main queue
 * @property {string} producer         who sends to it
 * @property {string} consumer         who receives from it
 * @property {string} purpose
 */

const FOURTEEN_DAYS = 14 * 24 * 3600;
const FOUR_DAYS = 4 * 24 * 3600;

/** @type {QueueDefinition[]} */
const queues = [
  {
    key: 'samples',
    logicalId: 'SamplesQueue',
    fifo: false,
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
    retentionSeconds: FOUR_DAYS,
    producer: 'shipper',
    consumer: 'inference',
    purpose: 'metric sample batches, inventory snapshots and failure events from each cluster',
  },
  {
    key: 'anomalies',
    logicalId: 'AnomaliesQueue',
    fifo: false,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    retentionSeconds: FOUR_DAYS,
    producer: 'inference',
    consumer: 'planner',
    purpose: 'anomaly messages (incident opened / updated / resolved)',
  },
  {
    key: 'remediations',
    logicalId: 'RemediationsQueue',
    fifo: true,
    visibilityTimeoutSeconds: 300,
    // Generous on purpose: the executor keeps a plan that failed for a transient reason invisible with a
    // doubling backoff (30 s up to 5 min), so 50 deliveries cover hours of API-server or SQS outage; a claimed,
    // possibly half-applied plan must never be parked here by the redrive (the executor requeues it instead).
    maxReceiveCount: 50,
    retentionSeconds: FOUR_DAYS,
    producer: 'planner',
    consumer: 'executor',
    purpose: 'signed remediation plans, one message group per target workload',
  },
  {
    key: 'results',
    logicalId: 'ResultsQueue',
    fifo: false,
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 5,
    retentionSeconds: FOUR_DAYS,
    producer: 'executor',
    consumer: 'planner',
    purpose: 'execution results and verification outcomes',
  },
  {
    key: 'predictions',
    logicalId: 'PredictionsQueue',
    fifo: false,
    visibilityTimeoutSeconds: 60,
    maxReceiveCount: 3,
    // snapshots: anything older than this has been superseded many times over
    retentionSeconds: 3600,
    producer: 'inference',
    consumer: 'relay',
    purpose: 'per-series prediction digests, exported in-cluster as kubepulse_predicted_*_ratio gauges',
  },
  {
    key: 'alerts',
    logicalId: 'AlertsQueue',
    fifo: false,
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: 8,
    retentionSeconds: FOUR_DAYS,
    producer: 'planner',
    consumer: 'notifier',
    purpose: 'alerts for humans (Slack, PagerDuty, webhooks)',
  },
];

const DLQ_RETENTION_SECONDS = FOURTEEN_DAYS;

/** Physical queue name; FIFO names must end in `.fifo`. */
function queueName(prefix, def) {
  return `${prefix}-${def.key}${def.fifo ? '.fifo' : ''}`;
}

/** Dead-letter queue name; a FIFO queue's DLQ must be FIFO too. */
function deadLetterQueueName(prefix, def) {
  return `${prefix}-${def.key}-dlq${def.fifo ? '.fifo' : ''}`;
}

module.exports = { queues, queueName, deadLetterQueueName, DLQ_RETENTION_SECONDS };
