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
 * @property {boolean} [perCluster]    one queue (and DLQ) per cluster of the cluster list: the queue itself says
 *   which cluster a message belongs to, and IAM lets only that cluster's in-cluster principal use it
 * @property {string} [cluster]        set on the per-cluster copies `clusterQueues` makes
 */

const FOURTEEN_DAYS = 14 * 24 * 3600;
const FOUR_DAYS = 4 * 24 * 3600;

/** @type {QueueDefinition[]} */
const queues = [
  {
    key: 'samples',
    perCluster: true,
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
    perCluster: true,
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
    perCluster: true,
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
    perCluster: true,
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

/**
 * The one list of clusters when none is given: serverless.yml's `clusters` param defaults to the same value, and the
 * local stack (SQS emulator, demo, bench:e2e) runs one cluster of this name.
 */
const DEFAULT_CLUSTERS = ['local'];

/** Same rule as the contracts' ClusterId: a DNS label. */
const CLUSTER_ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

const pascal = (s) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');

/**
 * The cluster list from a param: `prod-eu,prod-us` (or an array). Refuses an empty list, a bad id, a duplicate and
 * two ids whose logical ids would collide (`a-1` and `a1` both become `A1`).
 */
function parseClusters(value) {
  const list = (Array.isArray(value) ? value : String(value ?? '').split(','))
    .map((c) => String(c).trim())
    .filter(Boolean);
  if (list.length === 0) throw new Error('the cluster list is empty (param clusters: e.g. prod-eu,prod-us)');
  const seen = new Map();
  for (const cluster of list) {
    if (!CLUSTER_ID.test(cluster) || cluster.length > 40) {
      throw new Error(`cluster id "${cluster}" must be a DNS label of at most 40 characters`);
    }
    const id = pascal(cluster);
    if (seen.has(id)) throw new Error(`cluster ids "${seen.get(id)}" and "${cluster}" collide (both ${id})`);
    seen.set(id, cluster);
  }
  return list;
}

/**
 * Every concrete queue for a cluster list: shared queues once, per-cluster queues once per cluster, each copy
 * with its `cluster` and its own logical id (`Remediations` + `ProdEu` + `Queue`).
 * @param {string[]} clusters
 * @returns {QueueDefinition[]}
 */
function clusterQueues(clusters = DEFAULT_CLUSTERS) {
  const list = parseClusters(clusters);
  return queues.flatMap((def) =>
    def.perCluster
      ? list.map((cluster) => ({
          ...def,
          cluster,
          logicalId: `${def.logicalId.replace(/Queue$/, '')}${pascal(cluster)}Queue`,
        }))
      : [def],
  );
}

/** `samples` or `samples@prod-eu`: how code and tests name one concrete queue. */
const queueRef = (def) => (def.cluster ? `${def.key}@${def.cluster}` : def.key);

/** Physical queue name (`<prefix>-<key>[-<cluster>]`); FIFO names must end in `.fifo`. */
function queueName(prefix, def) {
  return `${prefix}-${def.key}${def.cluster ? `-${def.cluster}` : ''}${def.fifo ? '.fifo' : ''}`;
}

/** Dead-letter queue name; a FIFO queue's DLQ must be FIFO too. */
function deadLetterQueueName(prefix, def) {
  return `${prefix}-${def.key}${def.cluster ? `-${def.cluster}` : ''}-dlq${def.fifo ? '.fifo' : ''}`;
}

module.exports = {
  queues,
  clusterQueues,
  parseClusters,
  queueRef,
  queueName,
  deadLetterQueueName,
  DEFAULT_CLUSTERS,
  DLQ_RETENTION_SECONDS,
};
