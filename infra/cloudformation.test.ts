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
