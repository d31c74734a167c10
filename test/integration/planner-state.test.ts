import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisPlannerState } from '../../functions/planner/adapters/redis-planner-state.js';
import { approvedPlanIdOf } from '../../functions/planner/core/approved-plan.js';
import type { PendingApproval, PlannedIncident } from '../../functions/planner/core/ports.js';
import { DependencyUnavailableError } from '../../functions/shared/errors.js';
import { signPlan } from '../../functions/shared/signing.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';

function approval(approvalId: string, overrides: Partial<PendingApproval> = {}): PendingApproval {
  return {
    approvalId,
    clusterId: 'prod-eu-1',
    incidentId: 'fp-1',
    status: 'pending',
    createdAt: '2026-11-21T10:00:00.000Z',
    expiresAt: '2026-11-21T11:00:00.000Z',
    source: 'runbook',
    proposal: {
      decision: 'act',
      diagnosis: 'OOMKilled',
      rationale: 'raise the limit',
      confidence: 0.8,
      actions: [{ action: 'rollout-restart', namespace: 'shop', kind: 'Deployment', name: 'checkout' }],
    },
    reasons: ['rollout-restart is medium risk: needs-approval by policy'],
    dryRun: true,
    ...overrides,
  };
}

describe('planner state on a real Redis', () => {
  let server: PrivateRedisServer;
  let redis: Redis;
  let state: RedisPlannerState;
  const now = new Date('2026-11-21T10:30:00Z');

  before(async () => {
    server = await PrivateRedisServer.start();
    redis = new Redis(server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    redis.on('error', () => {});
    await redis.connect();
    state = new RedisPlannerState(redis);
  });
  after(async () => {
    redis.disconnect();
    await server.close();
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  it('lets exactly one of many concurrent planners claim an incident', async () => {
    const claims = await Promise.all(Array.from({ length: 20 }, () => state.claimIncident('fp-1', 60)));
    assert.equal(claims.filter((c) => c.status === 'claimed').length, 1);
    assert.equal(claims.filter((c) => c.status === 'in-flight').length, 19);
  });

  it('keeps the recorded outcome for redeliveries, and a release never drops it', async () => {
    await state.claimIncident('fp-1', 60);
    const record = { anomalyIds: ['a-1'], outputs: [] };
    await state.recordIncident('fp-1', record, 600);
    await state.releaseIncident('fp-1');
    assert.deepEqual(await state.claimIncident('fp-1', 60), {
      status: 'planned',
      record,
      revision: JSON.stringify(record),
    });
    assert.ok((await redis.ttl('kubepulse:planner:incident:fp-1')) > 60);
  });

  it('concludes an incident only with a result of its own plan, keeping its window; reopening takes exactly that record', async () => {
    const plan = signPlan(
      {
        schemaVersion: 2,
        kind: 'remediation-plan',
        clusterId: 'prod-eu-1',
        planId: 'plan-1',
        incidentId: 'fp-1',
        createdAt: '2026-11-21T10:01:00.000Z',
        expiresAt: '2026-11-21T10:16:00.000Z',
        source: 'runbook',
        rationale: 'raise the limit',
        confidence: 0.8,
        dryRun: false,
        scope: { clusterId: 'prod-eu-1', namespace: 'shop', workload: null, nodes: [] },
        actions: approval('apr-0').proposal.actions,
      },
      { keyId: 'k1', key: randomBytes(32) },
    );
    const record: PlannedIncident = {
      anomalyIds: ['a-1'],
      outputs: [
        { kind: 'plan', plan },
        { kind: 'approval-request', approval: approval('apr-1') },
      ],
    };
    const conclusion = (planId: string) => ({
      planId,
      status: 'refused' as const,
      finishedAt: '2026-11-21T10:04:00.000Z',
    });
    assert.equal(
      await state.concludeIncident('fp-1', conclusion('plan-1')),
      'no-such-plan',
      'nothing recorded',
    );
    await state.claimIncident('fp-1', 60);
    assert.equal(
      await state.concludeIncident('fp-1', conclusion('plan-1')),
      'no-such-plan',
      'still in flight',
    );
    await state.recordIncident('fp-1', record, 600);
    assert.equal(await state.concludeIncident('fp-1', conclusion('plan-other')), 'no-such-plan');
    assert.equal(await state.concludeIncident('fp-1', conclusion('plan-1')), 'concluded');
    // The plan an approval request becomes once approved concludes it too.
    assert.equal(await state.concludeIncident('fp-1', conclusion(approvedPlanIdOf('apr-1'))), 'concluded');
    const claim = await state.claimIncident('fp-1', 60);
    assert.ok(claim.status === 'planned');
    assert.deepEqual(claim.record.conclusion, conclusion(approvedPlanIdOf('apr-1')));
    assert.ok((await redis.ttl('kubepulse:planner:incident:fp-1')) > 60, 'the dedupe window is kept');

    const reopened = await Promise.all([
      state.reopenIncident('fp-1', claim.revision, 30),
      state.reopenIncident('fp-1', claim.revision, 30),
    ]);
    assert.deepEqual(reopened.sort(), [false, true], 'one planner takes the new episode');
    assert.equal((await state.claimIncident('fp-1', 60)).status, 'in-flight');
    assert.ok((await redis.ttl('kubepulse:planner:incident:fp-1')) <= 30);
  });

  it('releases an in-flight claim so a retry can plan, and an abandoned claim expires on its own', async () => {
    await state.claimIncident('fp-1', 60);
    await state.releaseIncident('fp-1');
    assert.equal((await state.claimIncident('fp-1', 1)).status, 'claimed');
    await sleep(2100);
    assert.equal((await state.claimIncident('fp-1', 60)).status, 'claimed');
  });

  it('reports a cooldown until it expires', async () => {
    assert.equal(await state.cooldownRemaining('c/shop/Deployment/checkout'), 0);
    await state.startCooldown('c/shop/Deployment/checkout', 300);
    const left = await state.cooldownRemaining('c/shop/Deployment/checkout');
    assert.ok(left > 290 && left <= 300);
    assert.equal(await state.cooldownRemaining('c/shop/Deployment/payments'), 0);
    await state.startCooldown('c/shop/Deployment/payments', 0);
    assert.equal(await state.cooldownRemaining('c/shop/Deployment/payments'), 0, 'a zero cooldown is none');
  });

  it('hands out at most max tokens per window, even concurrently, and a new window starts afresh', async () => {
    const taken = await Promise.all(
      Array.from({ length: 12 }, () => state.takeAutoPlanToken('prod', 5, 600, now)),
    );
    assert.equal(taken.filter(Boolean).length, 5);
    assert.equal(await state.takeAutoPlanToken('other', 5, 600, now), true);
    assert.equal(await state.takeAutoPlanToken('prod', 5, 600, new Date(now.getTime() + 600_000)), true);
  });

  it('saves, lists, approves and rejects approvals, once each', async () => {
    await state.saveApproval(approval('apr-2', { createdAt: '2026-11-21T10:05:00.000Z' }));
    await state.saveApproval(approval('apr-1'));
    assert.deepEqual(
      (await state.listApprovals()).map((a) => a.approvalId),
      ['apr-1', 'apr-2'],
    );
    const approved = await state.decideApproval('apr-1', 'approved', 'alice', now);
    assert.ok(approved.ok);
    assert.equal(approved.approval.status, 'approved');
    assert.equal(approved.approval.decidedBy, 'alice');
    assert.equal((await state.getApproval('apr-1'))?.status, 'approved');
    const again = await state.decideApproval('apr-1', 'rejected', 'bob', now);
    assert.deepEqual(again.ok ? 'ok' : again.reason, 'already-decided');
    assert.equal((await state.decideApproval('apr-2', 'rejected', 'bob', now)).ok, true);
    assert.deepEqual(await state.decideApproval('apr-9', 'approved', 'bob', now), {
      ok: false,
      reason: 'not-found',
    });
  });

  it('refuses to approve an expired request', async () => {
    await state.saveApproval(approval('apr-1', { expiresAt: '2026-11-21T10:10:00.000Z' }));
    const result = await state.decideApproval('apr-1', 'approved', 'alice', now);
    assert.equal(result.ok ? 'ok' : result.reason, 'expired');
  });

  it('lets only one of two concurrent decisions win', async () => {
    await state.saveApproval(approval('apr-1'));
    const results = await Promise.allSettled([
      state.decideApproval('apr-1', 'approved', 'alice', now),
      state.decideApproval('apr-1', 'rejected', 'bob', now),
    ]);
    const wins = results.filter((r) => r.status === 'fulfilled' && r.value.ok);
    assert.equal(wins.length, 1);
  });

  it('turns a Redis outage into a retryable dependency error', async () => {
    await server.stop();
    try {
      await assert.rejects(state.claimIncident('fp-1', 60), DependencyUnavailableError);
    } finally {
      await server.resume();
      await redis.connect().catch(() => {});
      while (redis.status !== 'ready') await sleep(50);
    }
  });
});
