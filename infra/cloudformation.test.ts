import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

// The generators serverless.yml loads through ${file(...)}: CommonJS, loaded the same way here.
const require = createRequire(import.meta.url);
const { clusterQueues } = require('./queues.cjs') as {
  clusterQueues(
    clusters?: string[],
  ): Array<{ key: string; logicalId: string; fifo: boolean; maxReceiveCount: number }>;
};
// the default cluster list: one cluster, `local`
const queues = clusterQueues();
const { queueResources, roleResources, deadLetterLogicalId } = require('./cloudformation.cjs') as {
  queueResources(prefix: string): {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  roleResources(access: object): {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  deadLetterLogicalId(def: object): string;
};

interface Statement {
  Effect: string;
  Action: string[];
  Resource: Array<{ 'Fn::GetAtt': [string, string] } | string>;
}

describe('CloudFormation generated from infra/queues.cjs', () => {
  const { Resources } = queueResources('kubepulse-test');

  it('gives every queue a dead-letter queue, a redrive policy with its maxReceiveCount, and encryption', () => {
    for (const def of queues) {
      const queue = Resources[def.logicalId];
      const dlqId = deadLetterLogicalId(def);
      assert.equal(queue?.Type, 'AWS::SQS::Queue', def.key);
      assert.equal(Resources[dlqId]?.Type, 'AWS::SQS::Queue', `${def.key} DLQ`);
      const redrive = queue!.Properties.RedrivePolicy as {
        maxReceiveCount: number;
        deadLetterTargetArn: unknown;
      };
      assert.equal(redrive.maxReceiveCount, def.maxReceiveCount);
      assert.deepEqual(redrive.deadLetterTargetArn, { 'Fn::GetAtt': [dlqId, 'Arn'] });
      assert.equal(queue!.Properties.SqsManagedSseEnabled, true);
      assert.equal(Boolean(queue!.Properties.FifoQueue), def.fifo);
      assert.equal(
        Boolean(Resources[dlqId]!.Properties.FifoQueue),
        def.fifo,
        'a FIFO queue needs a FIFO DLQ',
      );
    }
  });

  it('grants the inference role exactly what it needs and nothing on other queues', () => {
    const { Resources: roles } = roleResources({
      lambda: { inference: { consume: ['samples'], send: ['anomalies', 'samples-dlq'] } },
    });
    const role = roles.InferenceLambdaRole!;
    const statements = (
      role.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>
    ).flatMap((p) => p.PolicyDocument.Statement);
    const grants = new Map<string, Set<string>>();
    for (const statement of statements) {
      assert.equal(statement.Effect, 'Allow');
      for (const resource of statement.Resource) {
        const target = typeof resource === 'string' ? resource : resource['Fn::GetAtt'][0];
        for (const action of statement.Action) {
          assert.ok(!action.includes('*'), `no wildcard actions: ${action}`);
          grants.set(target, new Set([...(grants.get(target) ?? []), action]));
        }
      }
    }
    assert.deepEqual([...(grants.get('AnomaliesQueue') ?? [])], ['sqs:SendMessage']);
    assert.deepEqual([...(grants.get('SamplesLocalDeadLetterQueue') ?? [])], ['sqs:SendMessage']);
    assert.ok(grants.get('SamplesLocalQueue')?.has('sqs:ReceiveMessage'));
    assert.ok(!grants.get('SamplesLocalQueue')?.has('sqs:SendMessage'));
    for (const other of [
      'RemediationsLocalQueue',
      'AlertsQueue',
      'ResultsLocalQueue',
      'AnomaliesDeadLetterQueue',
    ]) {
      assert.equal(grants.has(other), false, `inference must not touch ${other}`);
    }
  });
});

describe('per-cluster queues and principals from the cluster list', () => {
  const infra = require('./cloudformation.cjs') as {
    roleResources(
      access: object,
      opts: object,
    ): { Resources: Record<string, { Properties: Record<string, unknown> }> };
    perClusterEvents(clusters: string[], key: string, sqs: object, budget: number, who: string): unknown[];
  };
  const { parseClusters } = require('./queues.cjs') as { parseClusters(value: unknown): string[] };

  it('refuses an empty list, a bad id, a duplicate and ids whose logical ids collide', () => {
    assert.deepEqual(parseClusters(' prod-eu , prod-us '), ['prod-eu', 'prod-us']);
    assert.throws(() => parseClusters(''), /the cluster list is empty/);
    assert.throws(() => parseClusters('Prod_EU'), /must be a DNS label/);
    assert.throws(() => parseClusters('a1,a-1'), /collide/);
    assert.throws(() => parseClusters('eu,eu'), /collide/);
  });

  it('shares a function’s concurrency between its per-cluster triggers, and refuses too little', () => {
    const events = infra.perClusterEvents(['a', 'b'], 'samples', {}, 5, 'inference') as Array<{
      sqs: { maximumConcurrency: number; arn: { 'Fn::GetAtt': [string, string] } };
    }>;
    assert.deepEqual(
      events.map((e) => [e.sqs.arn['Fn::GetAtt'][0], e.sqs.maximumConcurrency]),
      [
        ['SamplesAQueue', 2],
        ['SamplesBQueue', 2],
      ],
    );
    assert.throws(
      () => infra.perClusterEvents(['a', 'b', 'c'], 'samples', {}, 5, 'inference'),
      /at least 2 each/,
    );
  });

  it('gives each cluster’s IRSA role its own cluster’s OIDC issuer, and refuses one issuer for two clusters', () => {
    const access = {
      inCluster: { executor: { consume: ['remediations'], serviceAccount: 'kubepulse/kubepulse-executor' } },
    };
    const { Resources } = infra.roleResources(access, {
      clusters: ['eu', 'us'],
      oidcIssuer: 'eu=oidc.eks.eu-west-1.amazonaws.com/id/EU,us=oidc.eks.us-east-1.amazonaws.com/id/US',
    });
    const trust = JSON.stringify(Resources.ExecutorUsWorkloadRole?.Properties.AssumeRolePolicyDocument);
    assert.match(trust, /id\/US:sub/);
    assert.doesNotMatch(trust, /id\/EU/);
    assert.throws(
      () =>
        infra.roleResources(access, {
          clusters: ['eu', 'us'],
          oidcIssuer: 'oidc.eks.eu-west-1.amazonaws.com/id/EU',
        }),
      /one issuer per cluster/,
    );
  });
});

describe('secretStatements: a role reads exactly the secrets its function names', () => {
  const { secretStatements } = require('./cloudformation.cjs') as {
    secretStatements: (
      who: string,
      env: Record<string, unknown>,
      kms?: string,
    ) => Array<Record<string, unknown>>;
  };

  it('grants GetSecretValue / GetParameter on each reference, nothing for blanks', () => {
    const statements = secretStatements('planner', {
      PLAN_SIGNING_KEY_SECRET: 'secretsmanager:kubepulse/prod/plan-signing-key',
      GEMINI_API_KEY_SECRET: 'ssm:/kubepulse/prod/gemini',
      SLACK_WEBHOOK_URL_SECRET: '',
      REDIS_URL: 'redis://cache:6379',
    });
    assert.deepEqual(
      statements.map((s) => [s.Action, JSON.stringify(s.Resource)]),
      [
        [
          'secretsmanager:GetSecretValue',
          JSON.stringify([
            {
              'Fn::Sub':
                // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not JS
                'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:kubepulse/prod/plan-signing-key-??????',
            },
          ]),
        ],
        [
          'ssm:GetParameter',
          JSON.stringify([
            {
              'Fn::Sub':
                // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not JS
                'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/kubepulse/prod/gemini',
            },
          ]),
        ],
      ],
    );
    assert.deepEqual(secretStatements('inference', { REDIS_URL_SECRET: '' }), []);
  });

  it('refuses a value where a reference belongs (packaging fails, the value never reaches the template)', () => {
    assert.throws(
      () => secretStatements('notifier', { WEBHOOK_SECRET_SECRET: 'hunter2hunter2hunter2' }),
      /WEBHOOK_SECRET_SECRET is not a secret reference/,
    );
  });

  it('adds kms:Decrypt through Secrets Manager and SSM only when a key is named', () => {
    const statements = secretStatements(
      'planner',
      { PLAN_SIGNING_KEY_SECRET: 'secretsmanager:k' },
      'arn:aws:kms:eu-west-1:111122223333:key/abc',
    );
    const kms = statements.find((s) => s.Action === 'kms:Decrypt');
    assert.ok(kms?.Condition, 'conditioned on kms:ViaService');
  });
});
