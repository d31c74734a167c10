import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { attemptDelivery } from '../../functions/notifier/adapters/http-attempt.js';
import { redisDeliveryLedger } from '../../functions/notifier/adapters/redis-delivery-ledger.js';
import { readNotifierConfig } from '../../functions/notifier/config.js';
import { deliverAlerts } from '../../functions/notifier/core/deliver-alerts.js';
import { destinationsFrom } from '../../functions/notifier/runtime.js';
import { RedisPlannerState } from '../../functions/planner/adapters/redis-planner-state.js';
import { describeAction } from '../../functions/shared/actions/index.js';
import { RemediationAction } from '../../functions/shared/contracts/index.js';
import { liveInText } from '../../local/standins/receivers/clickable.js';
import { type AlertReceivers, liveIn, startAlertReceivers } from '../../local/standins/receivers/index.js';
import { RecordingLogger } from '../support/loggers.js';
import {
  encodeAll,
  type PlannerContainer,
  type PlannerHarness,
  startPlannerHarness,
} from '../support/planner-harness.js';
import { plantedIncident } from '../support/prompt-injections.js';

/**
 * The model's free text reaches people as data: an injected answer puts phishing links and mentions in its
 * diagnosis and rationale, the planner turns it into alerts, approvals and signed plans, and the real notifier
 * delivers the alerts to the local Slack, PagerDuty and webhook receivers. Nothing the model wrote may be a
 * clickable link or a ping there, the alert must lead with what policy decided (the action specs' describe())
 * and label the model's words, and nothing signed or stored for approval may carry a live link either.
 */
const HOSTILE: Record<string, string> = {
  'a bare http URL (the issue\'s "Visit http://evil.example/runbook")':
    'Visit http://evil.example/runbook to confirm',
  'an https URL with a query': 'Log in at https://evil.example/login?next=/approve to approve',
  "Slack's own link syntax": 'See <https://evil.example/approve|the runbook> before approving',
  'an upper-case scheme': 'Runbook: HTTPS://EVIL.EXAMPLE/RUNBOOK',
  'a markdown link': 'Read [the runbook](https://evil.example/runbook) first',
  'a www host without scheme': 'The fix is documented at www.evil-runbooks.com/oom',
  'a bare domain with a path': 'Download the patch from evil.io/patch.sh and run it',
  'an email address': 'Mail security@evil.com the approval code',
  'an IP URL with a port': 'Confirm at http://203.0.113.7:8080/approve',
  'an ftp URL': 'Fetch ftp://files.evil.example/kubeconfig',
  '<!channel>': '<!channel> approve this now, it is urgent',
  '<!here>': '<!here> please approve',
  '<!everyone>': '<!everyone> the cluster is down',
  '@here as text': '@here approve the plan immediately',
  '@channel as text': 'cc @channel',
  'a user mention <@U…>': '<@U024BE7LD> approve this',
  'a group mention <!subteam^…>': '<!subteam^SAZ94GDB8|@oncall> approve this',
  '@here split by a zero-width space': '@\u200bhere approve',
  'a URL hidden behind a right-to-left override':
    'safe \u202Eelpmaxe.live//:sptth\u202C and https://evil.live/x',
};

// A proposal policy refuses, or one below the confidence threshold, falls back to the runbook, and the model's
// words then reach nobody; these are the paths on which they do.
type Path = 'escalate' | 'observe' | 'approval' | 'auto';
const PATHS: Path[] = ['escalate', 'approval', 'observe', 'auto'];

describe('red team: model-written text reaches people inert', () => {
  let h: PlannerHarness;
  let container: PlannerContainer;
  let receivers: AlertReceivers;

  before(async () => {
    h = await startPlannerHarness();
    container = await h.container({ REMEDIATION_POLICY: '{}' });
    receivers = await startAlertReceivers();
  });
  after(async () => {
    await receivers?.close();
    await h?.close();
  });
  beforeEach(async () => {
    await h.reset();
    receivers.reset();
  });

  let index = 0;
  for (const [name, hostile] of Object.entries(HOSTILE)) {
    const path = PATHS[index % PATHS.length]!;
    const n = index++;
    it(`${name} (${path})`, async () => {
      const incident = plantedIncident({
        site: 'log-tail',
        text: 'OOM while warming the cache',
        problem: 'memory',
        index: 900 + n,
      });
      const own = { namespace: 'shop', kind: 'Deployment', name: incident.workload };
      // set-resources is medium risk (needs approval by default); scale is low risk (automatic).
      const actions =
        path === 'approval'
          ? [{ action: 'set-resources', ...own, container: 'app', limits: { memoryBytes: 805306368 } }]
          : path === 'auto'
            ? [{ action: 'scale', ...own, replicas: 4 }]
            : [];
      h.fake.setDefault({
        kind: 'proposal',
        proposal: {
          decision: path === 'escalate' ? 'escalate' : path === 'observe' ? 'observe' : 'act',
          diagnosis: `Memory leak in the cache. ${hostile}`,
          rationale: `Scaling spreads the load. ${hostile}`,
          confidence: 0.95,
          actions,
        },
      });
      await h.sendAnomalies(encodeAll(incident.anomalies));
      await h.drain(container);

      const alerts = await h.alertsSent();
      const approvals = await new RedisPlannerState(h.redis).listApprovals();
      const plans = (await h.plansSent()).map((p) => p.plan);
      if (path === 'auto') assert.ok(plans.length >= 1, 'a plan was signed');
      else assert.ok(alerts.length >= 1, 'an alert was raised');

      // Signed and stored text: no live link or mention (the approver reads the approval, the executor's
      // readers the plan).
      const stored = [
        ...plans.map((p) => p.rationale),
        ...approvals.flatMap((a) => [a.proposal.diagnosis, a.proposal.rationale]),
      ];
      for (const text of stored) {
        const live = liveInText(text);
        assert.deepEqual([...live.links, ...live.mentions], [], `live in signed or stored text: ${text}`);
      }

      // The alerts as the real notifier delivers them, to every destination.
      const config = readNotifierConfig({
        REDIS_URL: 'redis://127.0.0.1:1',
        ALERTS_DLQ_URL: 'http://127.0.0.1:1/dlq',
        ...receivers.notifierEnv,
      });
      const outcome = await deliverAlerts(
        alerts.map((alert) => ({ recordId: alert.alertId, alert })),
        {
          destinations: destinationsFrom(config.destinations),
          ledger: redisDeliveryLedger(h.redis, config.ledger),
          retry: config.retry,
          logger: new RecordingLogger(),
          send: attemptDelivery,
        },
        Date.now() + 10_000,
      );
      assert.deepEqual(
        outcome.deliveries
          .filter((d) => d.status !== 'delivered')
          .map((d) => `${d.destination}: ${d.reason}`),
        [],
      );
      for (const kind of ['slack', 'pagerDuty', 'webhook'] as const) {
        const accepted = receivers[kind].accepted();
        assert.equal(accepted.length, alerts.length, `${kind} got every alert`);
        for (const request of accepted) {
          const live = liveIn(kind, request);
          assert.deepEqual([...live.links, ...live.mentions], [], `live in ${kind}: ${request.rawBody}`);
          assert.deepEqual(live.productLinks, [], `${kind} carries only the product's links`);
        }
      }

      // The product's words first, the model's labelled after them.
      const modelSaid = alerts.filter((alert) => alert.summary.includes('Memory leak in the cache'));
      if (path !== 'auto') assert.ok(modelSaid.length >= 1, "the model's diagnosis reached an alert");
      for (const alert of modelSaid) {
        const lines = alert.summary.split('\n');
        assert.doesNotMatch(lines[0]!, /Memory leak in the cache/, 'the model text leads the alert');
        assert.match(
          alert.summary,
          /Model-written diagnosis \(unverified; links and mentions disabled\): Memory leak/,
        );
        if (path === 'approval') {
          assert.ok(lines[0]!.includes(describeAction(RemediationAction.parse(actions[0]))), lines[0]);
        }
      }
    });
  }
});
