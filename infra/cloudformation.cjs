// CloudFormation generated for serverless.yml from the one queue definition (infra/queues.cjs) and the
// access map in serverless.yml (`custom.queueAccess`). serverless.yml loads it with
//   ${file(./infra/cloudformation.cjs):queues}   and   ${file(./infra/cloudformation.cjs):roles}
// osls / the Serverless Framework `require`s this file and calls the exported property, when it is a
// function, with `{ options, resolveConfigurationProperty, resolveVariable }`; hence CommonJS. Only
// `resolveVariable` is used here (it is what Serverless Framework v4's JS resolver also provides).
// The pure builders (`queueResources`, `roleResources`) are exported too, for tests and for local/.

const {
  queues,
  clusterQueues,
  parseClusters,
  queueName,
  deadLetterQueueName,
  DEFAULT_CLUSTERS,
  DLQ_RETENTION_SECONDS,
} = require('./queues.cjs');

/** Long polling for the in-cluster consumers (Lambda's event source mapping long-polls anyway). */
const RECEIVE_WAIT_SECONDS = 20;

/** Actions a consumer needs: receive, ack (delete), read attributes, and extend/shorten visibility. */
const CONSUME_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:ChangeMessageVisibility',
];
/** sqs:SendMessage also covers SendMessageBatch. */
const SEND_ACTIONS = ['sqs:SendMessage'];

const pascal = (s) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');

/** Logical id of a queue's dead-letter queue: SamplesQueue -> SamplesDeadLetterQueue. */
const deadLetterLogicalId = (def) => `${def.logicalId.replace(/Queue$/, '')}DeadLetterQueue`;

/** Logical id of the execution role generated for a Lambda function (set it as the function's `role:`). */
const lambdaRoleLogicalId = (functionKey) => `${pascal(functionKey)}LambdaRole`;

/** Logical id of the role / user generated for an in-cluster workload (executor, shipper). */
const workloadRoleLogicalId = (workloadKey) => `${pascal(workloadKey)}WorkloadRole`;
const workloadUserLogicalId = (workloadKey) => `${pascal(workloadKey)}WorkloadUser`;

/** Logical id osls gives a function's log group (normalized function name + LogGroup). */
const logGroupLogicalId = (functionKey) =>
  `${functionKey[0].toUpperCase()}${functionKey.slice(1).replace(/-/g, 'Dash').replace(/_/g, 'Underscore')}LogGroup`;

const queueArnSub = (name) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${name}`,
});

function findQueue(key) {
  const def = queues.find((q) => q.key === key);
  if (!def) {
    throw new Error(
      `unknown queue "${key}" (known: ${queues.map((q) => q.key).join(', ')}; see infra/queues.cjs)`,
    );
  }
  return def;
}

/**
 * Logical ids for an access-map entry: `anomalies` -> AnomaliesQueue, `anomalies-dlq` -> AnomaliesDeadLetterQueue.
 * A per-cluster queue means every cluster's copy (`samples` -> SamplesProdEuQueue, SamplesProdUsQueue), or, for an
 * in-cluster principal (`onlyCluster`), its own cluster's copy and nothing else.
 */
function queueLogicalIdsOf(ref, clusters, onlyCluster) {
  const dlq = ref.endsWith('-dlq');
  const base = findQueue(dlq ? ref.slice(0, -'-dlq'.length) : ref);
  const defs = clusterQueues(clusters).filter(
    (def) => def.key === base.key && (!onlyCluster || def.cluster === onlyCluster),
  );
  return defs.map((def) => (dlq ? deadLetterLogicalId(def) : def.logicalId));
}

/**
 * Every queue of infra/queues.cjs with its DLQ, redrive (both directions), FIFO attributes and SSE,
 * plus Outputs (URL and ARN of each queue and DLQ, exported as `<stack>-<OutputKey>`).
 * @param {string} prefix physical name prefix, `<service>-<stage>`
 * @param {{ deletionPolicy?: 'Delete'|'Retain'|'RetainExceptOnCreate' }} [opts] applied to every queue, also
 *   as UpdateReplacePolicy (Retain keeps in-flight messages when the stack is deleted or a queue replaced)
 */
function queueResources(prefix, opts = {}) {
  const clusters = parseClusters(opts.clusters ?? DEFAULT_CLUSTERS);
  const policy = opts.deletionPolicy ?? 'Delete';
  if (!['Delete', 'Retain', 'RetainExceptOnCreate'].includes(policy)) {
    throw new Error(`queue deletion policy must be Delete, Retain or RetainExceptOnCreate (got ${policy})`);
  }
  const lifecycle = {
    DeletionPolicy: policy,
    UpdateReplacePolicy: policy === 'Delete' ? 'Delete' : 'Retain',
  };
  const Resources = {};
  const Outputs = {};
  for (const def of clusterQueues(clusters)) {
    const dlqId = deadLetterLogicalId(def);
    const fifo = def.fifo ? { FifoQueue: true } : {};
    Resources[dlqId] = {
      Type: 'AWS::SQS::Queue',
      ...lifecycle,
      Properties: {
        QueueName: deadLetterQueueName(prefix, def),
        ...fifo,
        MessageRetentionPeriod: DLQ_RETENTION_SECONDS,
        SqsManagedSseEnabled: true,
        // Only the queue it serves may move messages here. Built from the name, not Fn::GetAtt, because the
        // main queue's RedrivePolicy already references this DLQ (a GetAtt would be a circular dependency).
        RedriveAllowPolicy: {
          redrivePermission: 'byQueue',
          sourceQueueArns: [queueArnSub(queueName(prefix, def))],
        },
        Tags: [
          { Key: 'kubepulse:queue', Value: def.key },
          { Key: 'kubepulse:role', Value: 'dead-letter' },
          ...(def.cluster ? [{ Key: 'kubepulse:cluster', Value: def.cluster }] : []),
        ],
      },
    };
    Resources[def.logicalId] = {
      Type: 'AWS::SQS::Queue',
      ...lifecycle,
      Properties: {
        QueueName: queueName(prefix, def),
        ...fifo,
        // Deduplication by explicit MessageDeduplicationId, scoped per message group, with the
        // high-throughput FIFO quota (per message group).
        ...(def.fifo
          ? {
              ContentBasedDeduplication: false,
              DeduplicationScope: 'messageGroup',
              FifoThroughputLimit: 'perMessageGroupId',
            }
          : {}),
        VisibilityTimeout: def.visibilityTimeoutSeconds,
        MessageRetentionPeriod: def.retentionSeconds,
        ReceiveMessageWaitTimeSeconds: RECEIVE_WAIT_SECONDS,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
          maxReceiveCount: def.maxReceiveCount,
        },
        Tags: [
          { Key: 'kubepulse:queue', Value: def.key },
          { Key: 'kubepulse:producer', Value: def.producer },
          { Key: 'kubepulse:consumer', Value: def.consumer },
          ...(def.cluster ? [{ Key: 'kubepulse:cluster', Value: def.cluster }] : []),
        ],
      },
    };
    for (const [id, what] of [
      [def.logicalId, `${def.key} queue${def.cluster ? ` of cluster ${def.cluster}` : ''}`],
      [dlqId, `${def.key} dead-letter queue${def.cluster ? ` of cluster ${def.cluster}` : ''}`],
    ]) {
      Outputs[`${id}Url`] = {
        Description: `URL of the ${what}`,
        Value: { Ref: id },
        Export: { Name: { 'Fn::Sub': `\${AWS::StackName}-${id}Url` } },
      };
      Outputs[`${id}Arn`] = {
        Description: `ARN of the ${what}`,
        Value: { 'Fn::GetAtt': [id, 'Arn'] },
        Export: { Name: { 'Fn::Sub': `\${AWS::StackName}-${id}Arn` } },
      };
    }
  }
  return { Resources, Outputs };
}

/**
 * @typedef {object} QueueAccess
 * @property {string[]} [consume]  queue keys it receives from (and deletes / changes visibility / reads attributes)
 * @property {string[]} [send]     queue keys it sends to
 *   (a key with `-dlq` appended, e.g. `samples-dlq`, means that queue's dead-letter queue)
 * @property {string} [serviceAccount]  in-cluster only: `namespace/name` of the Kubernetes service account (IRSA)
 * @property {'irsa'|'user'} [principal] in-cluster only: IRSA role (default) or an IAM user (access keys made out of band)
 */

/**
 * The grants of one principal. A Lambda function's per-cluster grant covers every cluster's copy; an in-cluster
 * principal (`onlyCluster` set) gets its own cluster's copy only, and may name per-cluster queues only: a shared
 * queue would let it read other clusters' messages or write messages whose clusterId nothing authenticates.
 */
function sqsStatements(who, access, clusters = DEFAULT_CLUSTERS, onlyCluster = undefined) {
  const unknown = Object.keys(access).filter(
    (k) => !['consume', 'send', 'serviceAccount', 'principal'].includes(k),
  );
  if (unknown.length) throw new Error(`queueAccess.${who}: unknown key(s) ${unknown.join(', ')}`);
  const statements = [];
  const consume = access.consume ?? [];
  const send = access.send ?? [];
  if (onlyCluster) {
    for (const ref of [...consume, ...send]) {
      if (!findQueue(ref.replace(/-dlq$/, '')).perCluster) {
        throw new Error(
          `${who}: "${ref}" is shared by every cluster; an in-cluster principal may use its own cluster's queues only`,
        );
      }
    }
  }
  const ids = (refs) => refs.flatMap((k) => queueLogicalIdsOf(k, clusters, onlyCluster));
  if (consume.length) {
    statements.push({
      Sid: 'ConsumeQueues',
      Effect: 'Allow',
      Action: CONSUME_ACTIONS,
      Resource: ids(consume).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
    });
  }
  if (send.length) {
    statements.push({
      Sid: 'SendToQueues',
      Effect: 'Allow',
      Action: SEND_ACTIONS,
      Resource: ids(send).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
    });
  }
  if (!statements.length) throw new Error(`queueAccess.${who}: grants nothing (give it consume and/or send)`);
  return statements;
}

/**
 * Read access to exactly the secrets a function's environment names (`<NAME>_SECRET`, functions/shared/secrets.ts):
 * a Secrets Manager ARN or `secretsmanager:<name>`, an SSM parameter ARN or `ssm:<name>`. Blank references grant
 * nothing. With `kmsKeyArn` (a customer managed key encrypting them), kms:Decrypt on it, through those services only.
 * @param {string} who
 * @param {Record<string, unknown>} environment
 * @param {string} [kmsKeyArn]
 */
function secretStatements(who, environment, kmsKeyArn) {
  const secretArns = [];
  const parameterArns = [];
  for (const [name, value] of Object.entries(environment ?? {})) {
    if (!name.endsWith('_SECRET') || value === '' || value === null || value === undefined) continue;
    if (typeof value !== 'string') {
      throw new Error(
        `${who}: ${name} must be a string reference (an ARN, secretsmanager:<name> or ssm:<name>)`,
      );
    }
    const ref = value.trim();
    const arn = /^arn:[^:]+:(secretsmanager|ssm):/.exec(ref);
    if (arn?.[1] === 'secretsmanager') {
      // The ARN may be given with or without the 6-character suffix Secrets Manager appends.
      secretArns.push(ref, `${ref}-??????`);
    } else if (arn?.[1] === 'ssm') {
      parameterArns.push(ref);
    } else if (ref.startsWith('secretsmanager:') && ref.length > 15) {
      secretArns.push({
        'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${ref.slice(15)}-??????`,
      });
    } else if (ref.startsWith('ssm:') && ref.length > 4) {
      parameterArns.push({
        'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${ref.slice(4).replace(/^\//, '')}`,
      });
    } else {
      throw new Error(
        `${who}: ${name} is not a secret reference (an ARN, secretsmanager:<name> or ssm:<name>): never put a secret's value here`,
      );
    }
  }
  const statements = [];
  if (secretArns.length) {
    statements.push({
      Sid: 'OwnSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: secretArns,
    });
  }
  if (parameterArns.length) {
    statements.push({
      Sid: 'OwnParameters',
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      Resource: parameterArns,
    });
  }
  if (kmsKeyArn && statements.length) {
    statements.push({
      Sid: 'DecryptOwnSecrets',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: kmsKeyArn,
      Condition: {
        StringEquals: {
          'kms:ViaService': [
            { 'Fn::Sub': `secretsmanager.\${AWS::Region}.amazonaws.com` },
            { 'Fn::Sub': `ssm.\${AWS::Region}.amazonaws.com` },
          ],
        },
      },
    });
  }
  return statements;
}

/**
 * One least-privilege IAM role per Lambda function (logs of its own log group + its queues, plus ENI
 * management when the function runs in a VPC), and one role (IRSA) or user per in-cluster workload PER CLUSTER
 * (`executor-prod-eu`, `shipper-prod-eu`, …) whose policy names that cluster's queues only.
 * @param {{ lambda?: Record<string, QueueAccess>, inCluster?: Record<string, QueueAccess> }} access
 * @param {{ vpc?: boolean, permissionsBoundary?: string, oidcIssuer?: string, clusters?: string[], environments?: Record<string, Record<string, unknown>>, secretsKmsKeyArn?: string }} [opts]
 *   oidcIssuer: one issuer (one cluster only) or `cluster=issuer,…` (each EKS cluster has its own)
 */
function roleResources(access, opts = {}) {
  const clusters = parseClusters(opts.clusters ?? DEFAULT_CLUSTERS);
  const Resources = {};
  const Outputs = {};
  for (const [fn, grants] of Object.entries(access.lambda ?? {})) {
    const roleId = lambdaRoleLogicalId(fn);
    Resources[roleId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `kubepulse ${fn} Lambda execution role (generated from custom.queueAccess.lambda.${fn})`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        ...(opts.vpc
          ? {
              ManagedPolicyArns: [
                {
                  'Fn::Sub': `arn:\${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`,
                },
              ],
            }
          : {}),
        ...(opts.permissionsBoundary ? { PermissionsBoundary: opts.permissionsBoundary } : {}),
        Policies: [
          {
            PolicyName: `${fn}-least-privilege`,
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'OwnLogGroup',
                  Effect: 'Allow',
                  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  // A log group's Arn attribute ends in `:*`, which covers its log streams.
                  Resource: [{ 'Fn::GetAtt': [logGroupLogicalId(fn), 'Arn'] }],
                },
                ...sqsStatements(`lambda.${fn}`, grants, clusters),
                ...secretStatements(`function "${fn}"`, opts.environments?.[fn], opts.secretsKmsKeyArn),
              ],
            },
          },
        ],
      },
    };
  }

  const inCluster = Object.entries(access.inCluster ?? {}).flatMap(([base, grants]) =>
    clusters.map((cluster) => [base, cluster, grants]),
  );
  for (const [base, cluster, grants] of inCluster) {
    const workload = `${base}-${cluster}`;
    const principal = grants.principal ?? 'irsa';
    const policy = {
      PolicyName: `${workload}-queues`,
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: sqsStatements(`inCluster.${base}`, grants, clusters, cluster),
      },
    };
    if (principal === 'user') {
      const userId = workloadUserLogicalId(workload);
      Resources[userId] = {
        Type: 'AWS::IAM::User',
        Properties: {
          ...(opts.permissionsBoundary ? { PermissionsBoundary: opts.permissionsBoundary } : {}),
          Policies: [policy],
          Tags: [{ Key: 'kubepulse:cluster', Value: cluster }],
        },
      };
      Outputs[`${userId}Name`] = {
        Description: `IAM user of the in-cluster ${base} of cluster ${cluster}`,
        Value: { Ref: userId },
      };
      continue;
    }
    if (principal !== 'irsa')
      throw new Error(`queueAccess.inCluster.${workload}: principal must be irsa or user`);
    const clusterIssuer = oidcIssuerOf(opts.oidcIssuer, cluster, clusters);
    if (!clusterIssuer) {
      throw new Error(
        `queueAccess.inCluster.${base} needs cluster ${cluster}'s OIDC issuer: --param="eksOidcIssuer=${cluster}=oidc.eks.<region>.amazonaws.com/id/<ID>,…"`,
      );
    }
    if (!/^[^/\s]+\/[^/\s]+$/.test(grants.serviceAccount ?? '')) {
      throw new Error(`queueAccess.inCluster.${workload}.serviceAccount must be "namespace/name"`);
    }
    const [namespace, serviceAccount] = grants.serviceAccount.split('/');
    const issuer = clusterIssuer.replace(/^https:\/\//, '').replace(/\/$/, '');
    const roleId = workloadRoleLogicalId(workload);
    Resources[roleId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `kubepulse in-cluster ${base} of cluster ${cluster} (IRSA: ${grants.serviceAccount})`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: {
                Federated: {
                  'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:oidc-provider/${issuer}`,
                },
              },
              Action: 'sts:AssumeRoleWithWebIdentity',
              Condition: {
                StringEquals: {
                  [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
                  [`${issuer}:aud`]: 'sts.amazonaws.com',
                },
              },
            },
          ],
        },
        ...(opts.permissionsBoundary ? { PermissionsBoundary: opts.permissionsBoundary } : {}),
        Policies: [policy],
        Tags: [{ Key: 'kubepulse:cluster', Value: cluster }],
      },
    };
    Outputs[`${roleId}Arn`] = {
      Description: `Role ARN for the ${workload} service account annotation eks.amazonaws.com/role-arn`,
      Value: { 'Fn::GetAtt': [roleId, 'Arn'] },
    };
  }
  return { Resources, Outputs };
}

/**
 * A cluster's OIDC issuer from `eksOidcIssuer`: `cluster=issuer,…`, or one bare issuer when there is one cluster
 * (each EKS cluster has its own issuer, so a bare one can never be right for two).
 */
function oidcIssuerOf(value, cluster, clusters) {
  if (!value) return undefined;
  const entries = String(value)
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 1 && !/^[a-z0-9-]+=/.test(entries[0])) {
    if (clusters.length > 1) {
      throw new Error(
        'eksOidcIssuer: give one issuer per cluster, as cluster=issuer,… (clusters do not share one)',
      );
    }
    return entries[0];
  }
  const pairs = new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return pairs.get(cluster);
}

/**
 * What a function must know about each cluster's queues, as one JSON object keyed by cluster id, for its
 * `CLUSTER_QUEUES` environment variable. CloudFormation fills in the URLs (`${Logical}`) and ARNs (`${Logical.Arn}`)
 * through Fn::Sub. `fields` maps a JSON field to `[queue key, 'url'|'arn', dlq?]`.
 */
function clusterQueuesVariable(clusters, fields) {
  const list = parseClusters(clusters);
  const defs = clusterQueues(list);
  const perCluster = {};
  for (const cluster of list) {
    perCluster[cluster] = {};
    for (const [field, [key, attribute, dlq]] of Object.entries(fields)) {
      const def = defs.find((d) => d.key === key && d.cluster === cluster);
      if (!def) throw new Error(`clusterQueuesVariable: ${key} is not a per-cluster queue`);
      const id = dlq ? deadLetterLogicalId(def) : def.logicalId;
      perCluster[cluster][field] = attribute === 'arn' ? `\${${id}.Arn}` : `\${${id}}`;
    }
  }
  return { 'Fn::Sub': JSON.stringify(perCluster) };
}

/** The inference function's CLUSTER_QUEUES: which samples queue is whose, and where its DLQ and predictions go. */
const INFERENCE_CLUSTER_FIELDS = {
  samplesQueueArn: ['samples', 'arn'],
  samplesDlqUrl: ['samples', 'url', true],
  predictionsQueueUrl: ['predictions', 'url'],
};
/** The planner's CLUSTER_QUEUES: where each cluster's plans go, and whose results queue is whose. */
const PLANNER_CLUSTER_FIELDS = {
  remediationsQueueUrl: ['remediations', 'url'],
  resultsQueueArn: ['results', 'arn'],
  resultsDlqUrl: ['results', 'url', true],
};

/**
 * One SQS event source per cluster copy of `key`, each with `maximumConcurrency` (>= 2, SQS's minimum). The sum of
 * every source's maximumConcurrency must fit in the function's reserved concurrency, or the pollers get throttled
 * and push messages towards the DLQs; the caller says how much is left for these sources.
 */
function perClusterEvents(clusters, key, sqs, concurrencyBudget, who) {
  const list = parseClusters(clusters);
  const each = Math.floor(concurrencyBudget / list.length);
  if (each < 2) {
    throw new Error(
      `${who}: ${list.length} cluster(s) need a maximumConcurrency of at least 2 each from ${concurrencyBudget}; raise the function's concurrency params`,
    );
  }
  const defs = clusterQueues(list).filter((d) => d.key === key);
  return defs.map((def) => ({
    sqs: { arn: { 'Fn::GetAtt': [def.logicalId, 'Arn'] }, ...sqs, maximumConcurrency: each },
  }));
}

// ---- Serverless variable resolvers -------------------------------------------------------------------

async function clustersOf(resolveVariable) {
  return parseClusters((await optionalParam(resolveVariable, 'clusters')) ?? DEFAULT_CLUSTERS);
}

async function numberParam(resolveVariable, name) {
  const value = Number(await resolveVariable(`param:${name}`));
  if (!Number.isInteger(value)) throw new Error(`param ${name} must be an integer`);
  return value;
}

async function prefixOf(resolveVariable) {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  return `${service}-${stage}`;
}

/** Optional string from a `${param:...}` (missing or blank -> undefined). */
async function optionalParam(resolveVariable, name) {
  const v = await resolveVariable(`param:${name}, ''`);
  return v == null || String(v).trim() === '' ? undefined : String(v).trim();
}

const splitIds = (v) =>
  (v ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** `provider.vpc` from the params vpcSubnetIds / vpcSecurityGroupIds (comma separated); undefined when unset. */
async function vpcConfig(resolveVariable) {
  const subnetIds = splitIds(await optionalParam(resolveVariable, 'vpcSubnetIds'));
  const securityGroupIds = splitIds(await optionalParam(resolveVariable, 'vpcSecurityGroupIds'));
  if (!subnetIds.length && !securityGroupIds.length) return undefined;
  if (!subnetIds.length || !securityGroupIds.length) {
    throw new Error('VPC config needs both vpcSubnetIds and vpcSecurityGroupIds params (or neither)');
  }
  return { subnetIds, securityGroupIds };
}

module.exports = {
  // ${file(./infra/cloudformation.cjs):queues}
  queues: async ({ resolveVariable }) =>
    queueResources(await prefixOf(resolveVariable), {
      deletionPolicy: await optionalParam(resolveVariable, 'queueDeletionPolicy'),
      clusters: await clustersOf(resolveVariable),
    }),

  // ${file(./infra/cloudformation.cjs):inferenceClusterQueues}  (CLUSTER_QUEUES of the inference function)
  inferenceClusterQueues: async ({ resolveVariable }) =>
    clusterQueuesVariable(await clustersOf(resolveVariable), INFERENCE_CLUSTER_FIELDS),

  // ${file(./infra/cloudformation.cjs):plannerClusterQueues}  (CLUSTER_QUEUES of the planner)
  plannerClusterQueues: async ({ resolveVariable }) =>
    clusterQueuesVariable(await clustersOf(resolveVariable), PLANNER_CLUSTER_FIELDS),

  // ${file(./infra/cloudformation.cjs):inferenceEvents}  one trigger per cluster's samples queue
  inferenceEvents: async ({ resolveVariable }) =>
    perClusterEvents(
      await clustersOf(resolveVariable),
      'samples',
      {
        batchSize: await numberParam(resolveVariable, 'inferenceBatchSize'),
        maximumBatchingWindow: await numberParam(resolveVariable, 'inferenceBatchingWindowSeconds'),
        functionResponseType: 'ReportBatchItemFailures',
      },
      await numberParam(resolveVariable, 'inferenceConcurrency'),
      'inference',
    ),

  // ${file(./infra/cloudformation.cjs):plannerEvents}  the anomalies queue, then one trigger per results queue
  plannerEvents: async ({ resolveVariable }) => {
    const reserved = await numberParam(resolveVariable, 'plannerReservedConcurrency');
    const anomalies = await numberParam(resolveVariable, 'plannerAnomaliesConcurrency');
    const results = await numberParam(resolveVariable, 'plannerResultsConcurrency');
    const clusters = await clustersOf(resolveVariable);
    if (anomalies + results * clusters.length > reserved) {
      throw new Error(
        `planner: plannerReservedConcurrency ${reserved} < plannerAnomaliesConcurrency ${anomalies} + plannerResultsConcurrency ${results} x ${clusters.length} cluster(s)`,
      );
    }
    return [
      {
        sqs: {
          arn: { 'Fn::GetAtt': ['AnomaliesQueue', 'Arn'] },
          batchSize: 10,
          maximumBatchingWindow: await numberParam(resolveVariable, 'plannerBatchingWindowSeconds'),
          maximumConcurrency: anomalies,
          functionResponseType: 'ReportBatchItemFailures',
        },
      },
      ...perClusterEvents(
        clusters,
        'results',
        { batchSize: 10, functionResponseType: 'ReportBatchItemFailures' },
        results * clusters.length,
        'planner',
      ),
    ];
  },

  // ${file(./infra/cloudformation.cjs):roles}
  roles: async ({ resolveVariable }) => {
    const access = (await resolveVariable('self:custom.queueAccess, null')) ?? {};
    const functions = (await resolveVariable('self:functions, null')) ?? {};
    // Every function must run under its generated role, and every role must belong to a function:
    // a function without `role:` would make osls add its broad default role.
    for (const fn of Object.keys(functions)) {
      const expected = lambdaRoleLogicalId(fn);
      if (!access.lambda?.[fn]) {
        throw new Error(
          `function "${fn}" has no entry in custom.queueAccess.lambda (its IAM role is generated from it)`,
        );
      }
      const role = functions[fn]?.role;
      if (role !== expected)
        throw new Error(`function "${fn}" must set \`role: ${expected}\` (found ${JSON.stringify(role)})`);
      // AWS: a Lambda-triggering queue's visibility timeout should be at least 6x the function timeout.
      const timeout = Number(functions[fn]?.timeout ?? 6); // osls's default timeout
      for (const key of access.lambda[fn].consume ?? []) {
        if (key.endsWith('-dlq')) continue; // DLQs keep SQS's default visibility (30 s); not a trigger here
        const def = findQueue(key);
        if (timeout * 6 > def.visibilityTimeoutSeconds) {
          throw new Error(
            `function "${fn}": timeout ${timeout}s > ${key} queue visibility ${def.visibilityTimeoutSeconds}s / 6 (infra/queues.cjs)`,
          );
        }
      }
    }
    for (const fn of Object.keys(access.lambda ?? {})) {
      if (!functions[fn])
        throw new Error(`custom.queueAccess.lambda.${fn}: no such function in serverless.yml`);
    }
    const environments = Object.fromEntries(
      Object.entries(functions).map(([fn, definition]) => [fn, definition?.environment ?? {}]),
    );
    return roleResources(access, {
      environments,
      secretsKmsKeyArn: await optionalParam(resolveVariable, 'secretsKmsKeyArn'),
      clusters: await clustersOf(resolveVariable),
      vpc: Boolean(await vpcConfig(resolveVariable)),
      permissionsBoundary: await optionalParam(resolveVariable, 'iamPermissionsBoundary'),
      oidcIssuer: Object.keys(access.inCluster ?? {}).length
        ? await optionalParam(resolveVariable, 'eksOidcIssuer')
        : undefined,
    });
  },

  // ${file(./infra/cloudformation.cjs):vpc, null}  (null: no VPC; osls rejects an empty vpc object)
  vpc: async ({ resolveVariable }) => (await vpcConfig(resolveVariable)) ?? null,

  queueResources,
  roleResources,
  secretStatements,
  clusterQueuesVariable,
  perClusterEvents,
  INFERENCE_CLUSTER_FIELDS,
  PLANNER_CLUSTER_FIELDS,
  deadLetterLogicalId,
  lambdaRoleLogicalId,
  workloadRoleLogicalId,
  logGroupLogicalId,
};
