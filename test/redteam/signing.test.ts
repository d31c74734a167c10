/**
 * Red team: plan signing, lifetime, key rotation and replay (issue 13, points 8 and 10). One test per attack;
 * each asserts the refusal and its reason. The pure cases attack the verifier the executor runs; the rest go
 * through the executor's real poller, the SQS emulator and the local API server, as the executor would meet them.
 */
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { kubeCluster } from '../../functions/executor/adapters/kube-cluster.js';
import { readExecutorConfig } from '../../functions/executor/config.js';
import { ANNOTATIONS } from '../../functions/executor/core/appliers/applier.js';
import { PlanLedger } from '../../functions/executor/core/ledger.js';
import { rolloutProgress } from '../../functions/executor/core/rollout.js';
import { type PollerDeps, pollOnce } from '../../functions/executor/poller.js';
import { createExecutorRuntime, type ExecutorRuntime } from '../../functions/executor/runtime.js';
import { readPlannerConfig } from '../../functions/planner/config.js';
import {
  decodeMessageBody,
  ExecutionResult,
  type RemediationAction,
  type RemediationPlan,
} from '../../functions/shared/contracts/index.js';
import { QUARANTINE_ATTRIBUTES } from '../../functions/shared/lambda/sqs-records.js';
import {
  canonicalJson,
  generateSigningKeyPair,
  keyringOf,
  publicKeyEntryOf,
  type SigningKey,
  signPlan,
  type UnsignedPlan,
  type VerifyResult,
  verifyPlan,
} from '../../functions/shared/signing.js';
import { controlPlaneBlocker, ensureControlPlane } from '../../local/harness/support/control-plane.js';
import { localSqsClient } from '../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../local/standins/sqs/emulator.js';
import { eventually } from '../support/eventually.js';
import { RecordingLogger } from '../support/loggers.js';
import { scopeOfActions } from '../support/plan-scope.js';

const NOW = new Date('2026-12-03T10:05:00Z');
const planner: SigningKey = { keyId: 'planner-2026-12', key: randomBytes(32) };
const keyring = keyringOf(planner);

function unsigned(overrides: Partial<UnsignedPlan> = {}): UnsignedPlan {
  return {
    schemaVersion: 2,
    kind: 'remediation-plan',
    clusterId: 'prod-eu-1',
    planId: 'plan-redteam-1',
    incidentId: 'inc-redteam-1',
    createdAt: '2026-12-03T10:00:00.000Z',
    expiresAt: '2026-12-03T10:15:00.000Z',
    source: 'llm',
    rationale: 'memory grows towards the limit',
    confidence: 0.9,
    dryRun: true,
    scope: {
      clusterId: 'prod-eu-1',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'checkout' },
      nodes: [],
    },
    actions: [
      {
        action: 'set-resources',
        namespace: 'shop',
        kind: 'Deployment',
        name: 'checkout',
        container: 'app',
        limits: { memoryBytes: 805306368 },
      },
      { action: 'scale', namespace: 'shop', kind: 'Deployment', name: 'checkout', replicas: 4 },
    ],
    ...overrides,
  };
}

const genuine = () => signPlan(unsigned(), planner);
const refusal = (result: VerifyResult) => (result.ok ? 'accepted' : `${result.reason}: ${result.detail}`);
const verdict = (candidate: unknown, options = {}) => refusal(verifyPlan(candidate, keyring, NOW, options));

/** The Ed25519 signature an attacker can make with a key of their own over exactly what the planner signs. */
function signedBy(plan: UnsignedPlan, key: SigningKey): RemediationPlan {
  return signPlan(plan, key);
}

describe('red team: forged signatures', () => {
  it('random bytes as the signature', () => {
    const forged = {
      ...genuine(),
      signature: { ...genuine().signature, value: randomBytes(64).toString('hex') },
    };
    assert.match(verdict(forged), /^bad-signature: signature does not match key planner-2026-12/);
  });

  it('an all-zero signature', () => {
    const forged = { ...genuine(), signature: { ...genuine().signature, value: '0'.repeat(128) } };
    assert.match(verdict(forged), /^bad-signature/);
  });

  it('a signature by another Ed25519 key under the trusted key id', () => {
    const forged = signedBy(unsigned(), { keyId: planner.keyId, key: randomBytes(32) });
    assert.match(verdict(forged), /^bad-signature: signature does not match key planner-2026-12/);
  });

  it("a genuine signature lifted from another of the planner's plans", () => {
    const other = signPlan(unsigned({ planId: 'plan-other', dryRun: true }), planner);
    const forged = { ...signPlan(unsigned({ dryRun: false }), planner), signature: other.signature };
    assert.match(verdict(forged), /^bad-signature/);
  });

  it('a signature over the canonical plan without the domain-separation context', () => {
    const plan = unsigned({ dryRun: false });
    const { privateKey } = generateKeyPairSync('ed25519');
    const trusted = keyringOf({ keyId: 'k-ctx', key: privateKey });
    const value = sign(null, Buffer.from(canonicalJson(plan)), privateKey).toString('hex');
    const forged = { ...plan, signature: { algorithm: 'Ed25519', keyId: 'k-ctx', value } };
    assert.match(refusal(verifyPlan(forged, trusted, NOW)), /^bad-signature/);
  });

  it('a truncated signature', () => {
    const forged = {
      ...genuine(),
      signature: { ...genuine().signature, value: genuine().signature.value.slice(0, 64) },
    };
    assert.match(verdict(forged), /^malformed: signature\.value/);
  });

  it('no signature at all', () => {
    const { signature: _, ...bare } = genuine();
    assert.match(verdict(bare), /^malformed: signature/);
  });
});

describe('red team: every field of a signed plan tampered with', () => {
  const tampers: Array<[string, (plan: RemediationPlan) => unknown]> = [
    [
      'actions: replicas raised',
      (p) => ({ ...p, actions: [p.actions[0], { ...p.actions[1], replicas: 40 }] }),
    ],
    [
      'actions: memory limit raised',
      (p) => ({ ...p, actions: [{ ...p.actions[0], limits: { memoryBytes: 2 ** 36 } }, p.actions[1]] }),
    ],
    [
      'actions: target renamed',
      (p) => ({ ...p, actions: [p.actions[0], { ...p.actions[1], name: 'ledger' }] }),
    ],
    [
      'actions: namespace moved',
      (p) => ({ ...p, actions: [p.actions[0], { ...p.actions[1], namespace: 'payments' }] }),
    ],
    [
      'actions: one appended',
      (p) => ({ ...p, actions: [...p.actions, { action: 'cordon', node: 'node-1' }] }),
    ],
    ['actions: one removed', (p) => ({ ...p, actions: [p.actions[1]] })],
    ['actions: reordered', (p) => ({ ...p, actions: [p.actions[1], p.actions[0]] })],
    ['dryRun turned off', (p) => ({ ...p, dryRun: false })],
    ['clusterId changed', (p) => ({ ...p, clusterId: 'prod-us-1' })],
    ['expiresAt extended', (p) => ({ ...p, expiresAt: '2026-12-03T10:45:00.000Z' })],
    ['createdAt moved', (p) => ({ ...p, createdAt: '2026-12-03T10:04:00.000Z' })],
    ['confidence raised', (p) => ({ ...p, confidence: 1 })],
    ['source claimed human', (p) => ({ ...p, source: 'human' })],
    ['rationale rewritten', (p) => ({ ...p, rationale: 'approved by the on-call' })],
    ['planId changed (to dodge the ledger)', (p) => ({ ...p, planId: 'plan-redteam-2' })],
    ['incidentId changed', (p) => ({ ...p, incidentId: 'inc-other' })],
  ];
  for (const [name, tamper] of tampers) {
    it(name, () => {
      assert.match(
        verdict(tamper(genuine())),
        /^bad-signature: signature does not match key planner-2026-12/,
      );
    });
  }

  it('signature relabelled with another trusted key id', () => {
    const second: SigningKey = { keyId: 'planner-2027-01', key: randomBytes(32) };
    const both = keyringOf(planner, second);
    const relabelled = { ...genuine(), signature: { ...genuine().signature, keyId: second.keyId } };
    assert.match(
      refusal(verifyPlan(relabelled, both, NOW)),
      /^bad-signature: signature does not match key planner-2027-01/,
    );
  });

  it('kind changed', () => {
    assert.match(verdict({ ...genuine(), kind: 'execution-result' }), /^malformed: kind/);
  });
});

describe('red team: keys the executor does not trust', () => {
  it('a plan signed by an unknown key id is refused as unknown-key (retried by the executor, below)', () => {
    const stranger = signedBy(unsigned(), { keyId: 'stolen-1', key: randomBytes(32) });
    assert.match(verdict(stranger), /^unknown-key: no trusted key with id stolen-1/);
  });

  it("another planner's key (cluster B's) is not trusted by cluster A's executor", () => {
    const plannerB: SigningKey = { keyId: 'planner-b', key: randomBytes(32) };
    const forA = signedBy(unsigned({ clusterId: 'prod-eu-1' }), plannerB);
    assert.match(verdict(forA), /^unknown-key: no trusted key with id planner-b/);
  });

  it('an executor keyring cannot verify with a private key smuggled into it', () => {
    const leaky = new Map([[planner.keyId, generateKeyPairSync('ed25519').privateKey]]);
    assert.throws(() => verifyPlan(genuine(), leaky, NOW), /is a private key where a public one belongs/);
  });
});

describe('red team: the old HMAC format', () => {
  const hmacPlan = (algorithm: string, length: 32 | 64) => {
    const plan = unsigned({ dryRun: false });
    const value = createHmac('sha256', randomBytes(32))
      .update(`kubepulse/remediation-plan/v1\n${canonicalJson(plan)}`)
      .digest()
      .toString('hex');
    return {
      ...plan,
      signature: { algorithm, keyId: planner.keyId, value: length === 64 ? value.repeat(2) : value },
    };
  };

  it('an HMAC-SHA256 plan of the old format', () => {
    assert.match(verdict(hmacPlan('HMAC-SHA256', 32)), /^malformed: signature\.algorithm/);
  });

  it('an HMAC value relabelled Ed25519', () => {
    assert.match(verdict(hmacPlan('Ed25519', 32)), /^malformed: signature\.value/);
  });

  it('an HMAC value padded to the length of an Ed25519 signature', () => {
    assert.match(verdict(hmacPlan('Ed25519', 64)), /^bad-signature/);
  });
});

describe('red team: a private key in an executor configuration (refused at start-up)', () => {
  const pair = generateSigningKeyPair('planner-1');
  const base = {
    CLUSTER_ID: 'prod-eu-1',
    REMEDIATIONS_QUEUE_URL: 'http://127.0.0.1:9324/123456789012/remediations.fifo',
    REMEDIATIONS_DLQ_URL: 'http://127.0.0.1:9324/123456789012/remediations-dlq.fifo',
    RESULTS_QUEUE_URL: 'http://127.0.0.1:9324/123456789012/results',
    PLAN_PUBLIC_KEYS: pair.publicKeyEntry,
  };
  const startUp = (env: Record<string, string>) => {
    try {
      readExecutorConfig({ ...base, ...env });
      return 'started';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('a PKCS#8 PEM private key as a public key', () => {
    assert.match(
      startUp({ PLAN_PUBLIC_KEYS: `planner-1=${pair.privateKeyPem}` }),
      /PLAN_PUBLIC_KEYS: key planner-1 is a private key/,
    );
  });

  it('a PEM private key with escaped newlines', () => {
    const escaped = pair.privateKeyPem.replace(/\n/g, '\\n');
    assert.match(
      startUp({ PLAN_PUBLIC_KEYS: `planner-1=${escaped}` }),
      /PLAN_PUBLIC_KEYS: key planner-1 is a private key/,
    );
  });

  it('a base64 PKCS#8 DER private key', () => {
    assert.match(
      startUp({ PLAN_PUBLIC_KEYS: pair.signingKey }),
      /PLAN_PUBLIC_KEYS: key planner-1 is a private key/,
    );
  });

  it('a raw 32-byte seed (indistinguishable from a bare public key)', () => {
    const seed = randomBytes(32).toString('base64');
    const message = startUp({ PLAN_PUBLIC_KEYS: `planner-1=${seed}` });
    assert.match(message, /PLAN_PUBLIC_KEYS: key planner-1 is 32 raw bytes/);
    assert.ok(!message.includes(seed), 'key material is never echoed');
  });

  it("the planner's private key among good public keys", () => {
    const other = generateSigningKeyPair('planner-0');
    assert.match(
      startUp({ PLAN_PUBLIC_KEYS: `${pair.publicKeyEntry},${other.signingKey}` }),
      /PLAN_PUBLIC_KEYS: key planner-0 is a private key/,
    );
  });

  it("the planner's PLAN_SIGNING_KEY set in the executor's environment", () => {
    assert.match(
      startUp({ PLAN_SIGNING_KEY: pair.signingKey }),
      /PLAN_SIGNING_KEY: an executor must not hold/,
    );
  });

  it('the retired HMAC PLAN_SIGNING_KEYS set in the executor environment', () => {
    assert.match(
      startUp({ PLAN_SIGNING_KEYS: `k1=${randomBytes(32).toString('base64')}` }),
      /PLAN_SIGNING_KEYS: the shared HMAC keys are retired/,
    );
  });
});

describe('red team: plan lifetime and validity window', () => {
  it('a plan valid for 10 years', () => {
    const decade = signPlan(unsigned({ expiresAt: '2036-12-03T10:00:00.000Z' }), planner);
    assert.match(verdict(decade), /^lifetime-too-long: valid for 315\d+ s; at most 3600 s is accepted/);
  });

  it('a plan valid for one second more than an hour', () => {
    const long = signPlan(unsigned({ expiresAt: '2026-12-03T11:00:01.000Z' }), planner);
    assert.match(verdict(long), /^lifetime-too-long: valid for 3601 s/);
  });

  it('a plan valid longer than a tighter configured maximum', () => {
    assert.match(
      verdict(genuine(), { maxLifetimeSeconds: 600 }),
      /^lifetime-too-long: valid for 900 s; at most 600 s/,
    );
  });

  it('an expired plan', () => {
    assert.match(
      refusal(verifyPlan(genuine(), keyring, new Date('2026-12-03T10:15:00Z'))),
      /^expired: expired at 2026-12-03T10:15:00.000Z/,
    );
  });

  it('a plan not yet valid beyond the clock-skew allowance', () => {
    assert.match(
      refusal(verifyPlan(genuine(), keyring, new Date('2026-12-03T09:58:59Z'))),
      /^not-yet-valid: created at 2026-12-03T10:00:00.000Z, in the future/,
    );
  });

  it('a plan that expires before it was created', () => {
    const backwards = signPlan(unsigned({ expiresAt: '2026-12-03T09:00:00.000Z' }), planner);
    assert.match(verdict(backwards), /^malformed: expiresAt is not after createdAt/);
  });

  it('a planner configured to sign plans valid for longer than an hour does not start', () => {
    assert.throws(
      () =>
        readPlannerConfig({
          REDIS_URL: 'redis://127.0.0.1:6379',
          REMEDIATIONS_QUEUE_URL: 'http://127.0.0.1:9324/1/remediations.fifo',
          ALERTS_QUEUE_URL: 'http://127.0.0.1:9324/1/alerts',
          ANOMALIES_DLQ_URL: 'http://127.0.0.1:9324/1/anomalies-dlq',
          RESULTS_DLQ_URL: 'http://127.0.0.1:9324/1/results-dlq',
          RESULTS_QUEUE_ARN: 'arn:aws:sqs:us-east-1:123456789012:results',
          PLAN_SIGNING_KEY: generateSigningKeyPair('k1').signingKey,
          PLAN_TTL_SECONDS: String(10 * 365 * 24 * 3600),
        }),
      /PLAN_TTL_SECONDS: .*3600/,
    );
  });
});

// ---- against the executor's poller, the SQS emulator and the local API server ---------------------------------

const blocker = await controlPlaneBlocker();
const skip = blocker && process.env.CI !== 'true' ? `local control plane cannot be built: ${blocker}` : false;
const CLUSTER_ID = 'local';
const suffix = randomBytes(3).toString('hex');
const NAMESPACE = `redteam-sign-${suffix}`;
const MAX_RECEIVES = 3;

describe('red team: the executor, its queue and the API server', { skip }, () => {
  let admin: KubeConfig;
  let executorKube: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  const runtimes: ExecutorRuntime[] = [];
  const logger = new RecordingLogger();
  const oldKey: SigningKey = { keyId: 'planner-old', key: randomBytes(32) };
  const newKey: SigningKey = { keyId: 'planner-new', key: randomBytes(32) };

  before(async () => {
    ({ kubeConfig: admin } = await ensureControlPlane());
    apps = admin.makeApiClient(AppsV1Api);
    core = admin.makeApiClient(CoreV1Api);
    // The executor runs with the admin's credentials here: RBAC is another table's subject, and with it out of
    // the way only the signing checks stand between a plan and the cluster (the worst case for these attacks).
    executorKube = admin;
    await core.createNamespace({ body: { metadata: { name: 'kubepulse' } } }).catch(() => undefined);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    emulator = await startSqsEmulator({
      prefix: `redteam-sign-${suffix}`,
      overrides: {
        remediations: { visibilityTimeoutSeconds: 1, maxReceiveCount: MAX_RECEIVES },
        results: { visibilityTimeoutSeconds: 1 },
      },
    });
    sqs = localSqsClient(emulator.endpoint);
  });

  after(async () => {
    for (const runtime of runtimes) runtime.close();
    await core?.deleteNamespace({ name: NAMESPACE }).catch(() => undefined);
    sqs?.destroy();
    await emulator?.close();
  });

  /** An executor trusting exactly these planner keys, as its configuration would build it. */
  function executor(trusted: SigningKey[]): PollerDeps {
    const config = readExecutorConfig({
      CLUSTER_ID,
      REMEDIATIONS_QUEUE_URL: emulator.queueUrls.remediations,
      REMEDIATIONS_DLQ_URL: emulator.dlqUrls.remediations,
      RESULTS_QUEUE_URL: emulator.queueUrls.results,
      SQS_ENDPOINT_URL: emulator.endpoint,
      PLAN_PUBLIC_KEYS: trusted.map(publicKeyEntryOf).join(','),
      REMEDIATIONS_MAX_RECEIVES: String(MAX_RECEIVES),
      EXECUTOR_POLICY: JSON.stringify({
        dryRun: false,
        enabledActions: ['scale', 'rollout-restart', 'delete-pod'],
        namespaces: { allow: ['redteam-sign-*'] },
        modes: { medium: 'auto', high: 'auto' },
      }),
      EXECUTOR_NAMESPACE: 'kubepulse',
      EXECUTOR_INSTANCE: 'redteam-signing',
      COOLDOWN_SECONDS: '0',
      VERIFY_TIMEOUT_SECONDS: '60',
      VERIFY_POLL_MS: '250',
      LEASE_SECONDS: '60',
      WAIT_TIME_SECONDS: '1',
      RETRY_DELAY_SECONDS: '1',
      // The write budget and circuit breaker are one Lease per cluster, and every suite shares this API server:
      // lifted here so that other suites' writes and rollbacks cannot refuse this one's plans (their own red-team
      // cases run in a namespace of their own).
      EXECUTOR_MAX_WRITES_PER_HOUR: '10000',
      EXECUTOR_MAX_ROLLBACKS_PER_HOUR: '1000',
    });
    const runtime = createExecutorRuntime(config, logger, { kubeConfig: executorKube, sqs });
    runtimes.push(runtime);
    return runtime.poller;
  }

  function plan(actions: RemediationAction[], overrides: Partial<UnsignedPlan> = {}): UnsignedPlan {
    const now = Date.now();
    return {
      schemaVersion: 2,
      kind: 'remediation-plan',
      clusterId: CLUSTER_ID,
      planId: `plan-${randomUUID()}`,
      incidentId: `incident-${randomUUID()}`,
      createdAt: new Date(now - 1000).toISOString(),
      expiresAt: new Date(now + 10 * 60_000).toISOString(),
      source: 'runbook',
      rationale: 'red team',
      confidence: 0.9,
      dryRun: false,
      scope: scopeOfActions(CLUSTER_ID, NAMESPACE, actions),
      actions,
      ...overrides,
    };
  }

  async function send(body: RemediationPlan | object): Promise<void> {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: emulator.queueUrls.remediations,
        MessageBody: JSON.stringify(body),
        MessageGroupId: `g-${randomUUID()}`,
        MessageDeduplicationId: randomUUID(),
      }),
    );
  }

  /** Polls until this executor handled one message (waiting out a backoff if need be). */
  async function handleNext(poller: PollerDeps): Promise<void> {
    await eventually('a message delivered', async () => ((await pollOnce(poller)) === 1 ? true : undefined));
  }

  async function resultOf(planId: string, boundMs = 60_000): Promise<ExecutionResult | undefined> {
    const deadline = Date.now() + boundMs;
    while (Date.now() < deadline) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: emulator.queueUrls.results,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      for (const message of Messages) {
        const result = ExecutionResult.parse(decodeMessageBody(message.Body ?? ''));
        if (result.planId !== planId) continue;
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: emulator.queueUrls.results,
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
        return result;
      }
    }
    return undefined;
  }

  /** Messages on the remediations queue, in flight or not (the emulator counts both in this attribute). */
  async function remediationsLeft(): Promise<number> {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: emulator.queueUrls.remediations,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(Attributes.ApproximateNumberOfMessages ?? 0);
  }

  async function deployment(name: string, replicas: number) {
    const labels = { app: name };
    await apps.createNamespacedDeployment({
      namespace: NAMESPACE,
      body: {
        metadata: { name, labels },
        spec: {
          replicas,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
          },
        },
      },
    });
    return eventually(`${name} rolled out`, async () => {
      const current = await apps.readNamespacedDeployment({ name, namespace: NAMESPACE });
      return rolloutProgress('Deployment', current).done ? current : undefined;
    });
  }

  // The executor refuses a plan whose expected state differs from the live one: each test scales up by one.
  const scale = (name: string, replicas: number, fromReplicas = replicas - 1): RemediationAction => ({
    action: 'scale',
    namespace: NAMESPACE,
    kind: 'Deployment',
    name,
    replicas,
    fromReplicas,
  });

  async function deleteLedgerEntry(planId: string): Promise<void> {
    await core.deleteNamespacedConfigMap({ name: PlanLedger.nameOf(planId), namespace: 'kubepulse' });
  }

  // ---- unknown key ids: retried, paged, dead-lettered with the reason; never deleted ----------------------------

  it('a plan signed by an unknown key is left on the queue, paged and counted, not deleted', async () => {
    const poller = executor([oldKey]);
    await deployment('unknown-kept', 1);
    const signed = signPlan(plan([scale('unknown-kept', 2)]), newKey);
    await send(signed);
    await handleNext(poller);
    assert.equal(
      await resultOf(signed.planId, 1500),
      undefined,
      'no refusal reported: the plan is not given up',
    );
    assert.equal(await remediationsLeft(), 1, 'still on the queue');
    const page = logger.lines.find((l) => l.fields.planId === signed.planId && l.fields.page === true);
    assert.equal(page?.level, 'error');
    assert.match(page?.message ?? '', /unknown key id/);
    const metric = await poller.metrics!.securityRefusals.get();
    assert.ok(metric.values.some((v) => v.labels.reason === 'unknown-key' && v.value >= 1));
    // Drain it for the next cases: the last delivery parks it (checked in the next test on its own plan).
    while ((await remediationsLeft()) > 0) await handleNext(poller);
  });

  it('after the queue’s receive count it is dead-lettered with the reason, never run', async () => {
    const poller = executor([oldKey]);
    await deployment('unknown-parked', 1);
    const signed = signPlan(plan([scale('unknown-parked', 2)]), newKey);
    await send(signed);
    // Delivered until the queue's receive count is reached (the emulator also counts visibility changes).
    for (let delivery = 1; delivery <= MAX_RECEIVES && (await remediationsLeft()) > 0; delivery += 1) {
      await handleNext(poller);
    }
    const handled = logger.lines.filter((l) => l.fields.planId === signed.planId && l.fields.page === true);
    assert.deepEqual(
      handled.map((l) => l.fields.next),
      ['retry', 'dead-letter queue'],
      'retried first, parked on the last delivery',
    );
    assert.equal(await remediationsLeft(), 0);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: emulator.dlqUrls.remediations,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    const parked = Messages.find((m) => (m.Body ?? '').includes(signed.planId));
    assert.ok(parked, 'in the dead-letter queue');
    assert.equal(parked.MessageAttributes?.[QUARANTINE_ATTRIBUTES.code]?.StringValue, 'unknown-signing-key');
    assert.match(
      parked.MessageAttributes?.[QUARANTINE_ATTRIBUTES.reason]?.StringValue ?? '',
      /key planner-new/,
    );
    assert.equal(
      (await apps.readNamespacedDeployment({ name: 'unknown-parked', namespace: NAMESPACE })).spec?.replicas,
      1,
    );
  });

  it('a bad signature under a known key id is still refused for good (reported, deleted)', async () => {
    const poller = executor([oldKey]);
    await deployment('bad-known', 1);
    const forged = signPlan(plan([scale('bad-known', 3)]), { keyId: oldKey.keyId, key: randomBytes(32) });
    await send(forged);
    await handleNext(poller);
    const result = await resultOf(forged.planId);
    assert.equal(result?.status, 'refused');
    assert.match(result?.error ?? '', /^bad-signature: signature does not match key planner-old/);
    assert.equal(await remediationsLeft(), 0);
    assert.equal(
      (await apps.readNamespacedDeployment({ name: 'bad-known', namespace: NAMESPACE })).spec?.replicas,
      1,
    );
  });

  it('a plan valid for 10 years is refused by the executor, however well signed', async () => {
    const poller = executor([oldKey]);
    await deployment('decade', 1);
    const decade = signPlan(
      plan([scale('decade', 3)], { expiresAt: new Date(Date.now() + 10 * 365 * 86_400_000).toISOString() }),
      oldKey,
    );
    await send(decade);
    await handleNext(poller);
    const result = await resultOf(decade.planId);
    assert.equal(result?.status, 'refused');
    assert.match(result?.error ?? '', /^lifetime-too-long: .*at most 3600 s/);
    assert.equal(
      (await apps.readNamespacedDeployment({ name: 'decade', namespace: NAMESPACE })).spec?.replicas,
      1,
    );
  });

  it('an HMAC-signed plan of the old format is dead-lettered as malformed, never run', async () => {
    const poller = executor([oldKey]);
    const body = plan([scale('decade', 4)]);
    const value = createHmac('sha256', randomBytes(32)).update(canonicalJson(body)).digest('hex');
    const hmac = { ...body, signature: { algorithm: 'HMAC-SHA256', keyId: oldKey.keyId, value } };
    await send(hmac);
    await handleNext(poller);
    assert.equal(await remediationsLeft(), 0);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: emulator.dlqUrls.remediations,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    const parked = Messages.find((m) => (m.Body ?? '').includes(body.planId));
    assert.match(
      parked?.MessageAttributes?.[QUARANTINE_ATTRIBUTES.reason]?.StringValue ?? '',
      /signature\.algorithm/,
    );
  });

  // ---- key rotation drills: old and new keys overlapping, no plan lost ----------------------------------------

  it('rotation in the right order: plans signed with the old and the new key both run', async () => {
    const poller = executor([oldKey, newKey]);
    await deployment('rotate-right', 1);
    const inFlight = signPlan(plan([scale('rotate-right', 2)]), oldKey);
    await send(inFlight);
    await handleNext(poller);
    assert.equal((await resultOf(inFlight.planId))?.status, 'verified');
    const next = signPlan(plan([scale('rotate-right', 3)]), newKey);
    await send(next);
    await handleNext(poller);
    assert.equal((await resultOf(next.planId))?.status, 'verified');
    assert.equal(
      (await apps.readNamespacedDeployment({ name: 'rotate-right', namespace: NAMESPACE })).spec?.replicas,
      3,
    );
  });

  it('rotation in the wrong order (planner first): the plan waits on the queue and runs once the key arrives', async () => {
    await deployment('rotate-wrong', 1);
    const early = signPlan(plan([scale('rotate-wrong', 2)]), newKey);
    await send(early);
    await handleNext(executor([oldKey]));
    assert.equal(await remediationsLeft(), 1, 'kept');
    await handleNext(executor([oldKey, newKey])); // the executors are updated: the redelivery runs
    assert.equal((await resultOf(early.planId))?.status, 'verified');
    assert.equal(
      (await apps.readNamespacedDeployment({ name: 'rotate-wrong', namespace: NAMESPACE })).spec?.replicas,
      2,
    );
  });

  it('the old key retired too early: its in-flight plan waits and runs once the key is restored', async () => {
    await deployment('retired-early', 1);
    const inFlight = signPlan(plan([scale('retired-early', 2)]), oldKey);
    await send(inFlight);
    await handleNext(executor([newKey]));
    assert.equal(await remediationsLeft(), 1, 'kept');
    await handleNext(executor([oldKey, newKey]));
    assert.equal((await resultOf(inFlight.planId))?.status, 'verified');
  });

  // ---- replays after deleting the ledger --------------------------------------------------------------------------

  it('a scale plan replayed after its ledger entry was deleted is refused, the target left alone', async () => {
    const poller = executor([oldKey]);
    await deployment('replay-scale', 1);
    const signed = signPlan(plan([scale('replay-scale', 2)]), oldKey);
    await send(signed);
    await handleNext(poller);
    assert.equal((await resultOf(signed.planId))?.status, 'verified');
    // A human scales back; the attacker deletes the ledger and re-sends the captured plan.
    await kubeCluster(admin).patch(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'replay-scale', namespace: NAMESPACE },
        spec: { replicas: 1 },
      } as KubernetesObject,
      'merge',
    );
    await deleteLedgerEntry(signed.planId);
    await send(signed);
    await handleNext(poller);
    const replay = await resultOf(signed.planId);
    assert.equal(replay?.status, 'refused');
    assert.match(
      replay?.error ?? '',
      /replay: Deployment .*replay-scale already carries kubepulse\.io\/last-remediation=/,
    );
    assert.equal(
      (await apps.readNamespacedDeployment({ name: 'replay-scale', namespace: NAMESPACE })).spec?.replicas,
      1,
    );
  });

  it('a rollout restart replayed after its ledger entry was deleted is refused, no second restart', async () => {
    const poller = executor([oldKey]);
    await deployment('replay-restart', 1);
    const signed = signPlan(
      plan([{ action: 'rollout-restart', namespace: NAMESPACE, kind: 'Deployment', name: 'replay-restart' }]),
      oldKey,
    );
    await send(signed);
    await handleNext(poller);
    assert.equal((await resultOf(signed.planId))?.status, 'verified');
    const generation = (await apps.readNamespacedDeployment({ name: 'replay-restart', namespace: NAMESPACE }))
      .metadata?.generation;
    await deleteLedgerEntry(signed.planId);
    await send(signed);
    await handleNext(poller);
    const replay = await resultOf(signed.planId);
    assert.equal(replay?.status, 'refused');
    assert.match(replay?.error ?? '', /replay: .*this plan ran before/);
    const after = await apps.readNamespacedDeployment({ name: 'replay-restart', namespace: NAMESPACE });
    assert.equal(after.metadata?.generation, generation);
    assert.equal(after.metadata?.annotations?.[ANNOTATIONS.lastRemediation], signed.planId);
  });

  it("a pod deletion replayed after the ledger was deleted does not delete a StatefulSet's replacement", async () => {
    const poller = executor([oldKey]);
    const labels = { app: 'replay-db' };
    const body: V1StatefulSet = {
      metadata: { name: 'replay-db' },
      spec: {
        replicas: 2,
        serviceName: 'replay-db',
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'app', image: 'registry.invalid/db:1' }] },
        },
      },
    };
    await apps.createNamespacedStatefulSet({ namespace: NAMESPACE, body });
    const ready = () =>
      eventually('statefulset ready', async () => {
        const current = await apps.readNamespacedStatefulSet({ name: 'replay-db', namespace: NAMESPACE });
        return rolloutProgress('StatefulSet', current).done && (current.status?.readyReplicas ?? 0) >= 2
          ? current
          : undefined;
      });
    await ready();
    // Signed, then delivered a few seconds later (the LLM call and the queue take that long at least).
    // The incident is the StatefulSet's: a planner signs its workload into the scope of a pod deletion.
    const deletion: RemediationAction[] = [
      { action: 'delete-pod', namespace: NAMESPACE, pod: 'replay-db-0' },
    ];
    const signed = signPlan(
      plan(deletion, {
        scope: {
          ...scopeOfActions(CLUSTER_ID, NAMESPACE, deletion),
          workload: { kind: 'StatefulSet', name: 'replay-db' },
        },
      }),
      oldKey,
    );
    await sleep(7000);
    await send(signed);
    await handleNext(poller);
    assert.equal((await resultOf(signed.planId))?.status, 'verified');
    await ready();
    const replacement = await core.readNamespacedPod({ name: 'replay-db-0', namespace: NAMESPACE });
    await deleteLedgerEntry(signed.planId);
    await send(signed);
    await handleNext(poller);
    const replay = await resultOf(signed.planId);
    assert.equal(replay?.status, 'refused');
    assert.match(replay?.error ?? '', /replay: Pod .*replay-db-0 was created after the plan was signed/);
    const still = await core.readNamespacedPod({ name: 'replay-db-0', namespace: NAMESPACE });
    assert.equal(still.metadata?.uid, replacement.metadata?.uid);
  });
});
