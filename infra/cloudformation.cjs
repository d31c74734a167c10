// CloudFormation generated for serverless.yml from the one queue definition (infra/queues.cjs) and the
// access map in serverless.yml (`custom.queueAccess`). serverless.yml loads it with
//   ${file(./infra/cloudformation.cjs):queues}   and   ${file(./infra/cloudformation.cjs):roles}
// osls / the Serverless Framework `require`s this file and calls the exported property, when it is a
// function, with `{ options, resolveConfigurationProperty, resolveVariable }`; hence CommonJS. Only
// `resolveVariable` is used here (it is what Serverless Framework v4's JS resolver also provides).
// The pure builders (`queueResources`, `roleResources`) are exported too, for tests and for local/.

const { queues, queueName, deadLetterQueueName, DLQ_RETENTION_SECONDS } = require('./queues.cjs');

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

/** Logical id for an access-map entry: `samples` -> SamplesQueue, `samples-dlq` -> SamplesDeadLetterQueue. */
function queueLogicalIdOf(ref) {
  const dlq = ref.endsWith('-dlq');
  const def = findQueue(dlq ? ref.slice(0, -'-dlq'.length) : ref);
  return dlq ? deadLetterLogicalId(def) : def.logicalId;
}

/**
 * Every queue of infra/queues.cjs with its DLQ, redrive (both directions), FIFO attributes and SSE,
 * plus Outputs (URL and ARN of each queue and DLQ, exported as `<stack>-<OutputKey>`).
 * @param {string} prefix physical name prefix, `<service>-<stage>`
 * @param {{ deletionPolicy?: 'Delete'|'Retain'|'RetainExceptOnCreate' }} [opts] applied to every queue, also
 *   as UpdateReplacePolicy (Retain keeps in-flight messages when the stack is deleted or a queue replaced)
 */
function queueResources(prefix, opts = {}) {
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
  for (const def of queues) {
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
        ],
      },
    };
    for (const [id, what] of [
      [def.logicalId, `${def.key} queue`],
      [dlqId, `${def.key} dead-letter queue`],
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

function sqsStatements(who, access) {
  const unknown = Object.keys(access).filter(
    (k) => !['consume', 'send', 'serviceAccount', 'principal'].includes(k),
  );
  if (unknown.length) throw new Error(`queueAccess.${who}: unknown key(s) ${unknown.join(', ')}`);
  const statements = [];
  const consume = access.consume ?? [];
  const send = access.send ?? [];
  if (consume.length) {
    statements.push({
      Sid: 'ConsumeQueues',
      Effect: 'Allow',
      Action: CONSUME_ACTIONS,
      Resource: consume.map((k) => ({ 'Fn::GetAtt': [queueLogicalIdOf(k), 'Arn'] })),
    });
  }
  if (send.length) {
    statements.push({
      Sid: 'SendToQueues',
      Effect: 'Allow',
      Action: SEND_ACTIONS,
      Resource: send.map((k) => ({ 'Fn::GetAtt': [queueLogicalIdOf(k), 'Arn'] })),
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
            { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' },
            { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' },
          ],
        },
      },
    });
  }
  return statements;
}

/**
 * One least-privilege IAM role per Lambda function (logs of its own log group + its queues, plus ENI
 * management when the function runs in a VPC), and one role (IRSA) or user per in-cluster workload.
 * @param {{ lambda?: Record<string, QueueAccess>, inCluster?: Record<string, QueueAccess> }} access
 * @param {{ vpc?: boolean, permissionsBoundary?: string, oidcIssuer?: string, environments?: Record<string, Record<string, unknown>>, secretsKmsKeyArn?: string }} [opts]
 */
function roleResources(access, opts = {}) {
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
                ...sqsStatements(`lambda.${fn}`, grants),
                ...secretStatements(`function "${fn}"`, opts.environments?.[fn], opts.secretsKmsKeyArn),
              ],
            },
          },
        ],
      },
    };
  }

  const inCluster = Object.entries(access.inCluster ?? {});
  for (const [workload, grants] of inCluster) {
    const principal = grants.principal ?? 'irsa';
    const policy = {
      PolicyName: `${workload}-queues`,
      PolicyDocument: { Version: '2012-10-17', Statement: sqsStatements(`inCluster.${workload}`, grants) },
    };
    if (principal === 'user') {
      const userId = workloadUserLogicalId(workload);
      Resources[userId] = {
        Type: 'AWS::IAM::User',
        Properties: {
          ...(opts.permissionsBoundary ? { PermissionsBoundary: opts.permissionsBoundary } : {}),
          Policies: [policy],
        },
      };
      Outputs[`${userId}Name`] = {
        Description: `IAM user of the in-cluster ${workload}`,
        Value: { Ref: userId },
      };
      continue;
    }
    if (principal !== 'irsa')
      throw new Error(`queueAccess.inCluster.${workload}: principal must be irsa or user`);
    if (!opts.oidcIssuer) {
      throw new Error(
        `queueAccess.inCluster.${workload} needs the cluster's OIDC issuer: --param="eksOidcIssuer=oidc.eks.<region>.amazonaws.com/id/<ID>"`,
      );
    }
    if (!/^[^/\s]+\/[^/\s]+$/.test(grants.serviceAccount ?? '')) {
      throw new Error(`queueAccess.inCluster.${workload}.serviceAccount must be "namespace/name"`);
    }
    const [namespace, serviceAccount] = grants.serviceAccount.split('/');
    const issuer = opts.oidcIssuer.replace(/^https:\/\//, '').replace(/\/$/, '');
    const roleId = workloadRoleLogicalId(workload);
    Resources[roleId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `kubepulse in-cluster ${workload} (IRSA: ${grants.serviceAccount})`,
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
      },
    };
    Outputs[`${roleId}Arn`] = {
      Description: `Role ARN for the ${workload} service account annotation eks.amazonaws.com/role-arn`,
      Value: { 'Fn::GetAtt': [roleId, 'Arn'] },
    };
  }
  return { Resources, Outputs };
}

// ---- Serverless variable resolvers -------------------------------------------------------------------

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
    }),

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
  deadLetterLogicalId,
  lambdaRoleLogicalId,
  workloadRoleLogicalId,
  logGroupLogicalId,
};
