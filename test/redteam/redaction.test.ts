import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { FailureEventBatch, ShipperMessage } from '../../functions/shared/contracts/index.js';
import { MAX_LOG_TAIL_BYTES } from '../../functions/shared/contracts/index.js';
import { createRegistry } from '../../functions/shared/metrics.js';
import { createRedactor } from '../../functions/shared/redaction/redact.js';
import { ClusterReporter, redactedTail } from '../../functions/shipper/core/cluster-reporter.js';
import { createShipperMetrics } from '../../functions/shipper/metrics.js';
import { RecordingLogger } from '../support/loggers.js';

/**
 * The redaction corpus (test/redteam/fixtures/redaction-*.json): realistic secret formats, each in a log line as
 * an application would write it, and innocent lines that must come through unchanged. Written from the formats
 * vendors document, not from the rules. One case per format and one per innocent line; the red-team runner
 * counts them by name (`secret format …` leaked when failing, `innocent line …` mangled when failing).
 */
interface SecretCase {
  format: string;
  line: string;
  secret: string;
}
interface InnocentCase {
  kind: string;
  line: string;
}
const fixture = <T>(name: string): T[] =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T[];
const SECRETS = fixture<SecretCase>('redaction-secrets.json');
const INNOCENT = fixture<InnocentCase>('redaction-innocent.json');

const redactor = createRedactor();
const redact = (text: string) => redactor.redact(text).text;
const lastBytesOf = (text: string) => Buffer.from(text).subarray(-MAX_LOG_TAIL_BYTES).toString();

describe('red team: redaction corpus', () => {
  for (const { format, line, secret } of SECRETS) {
    it(`secret format ${format}`, () => {
      const text = redact(line);
      assert.equal(text.includes(secret), false, `leaked: ${text}`);
      assert.match(text, /\[REDACTED:/);
      // Idempotent: redacting again changes nothing, so every stage may redact what an earlier one did.
      assert.equal(redact(text), text);
    });
  }
  for (const { kind, line } of INNOCENT) {
    it(`innocent line ${kind}`, () => {
      assert.equal(redact(line), line);
    });
  }
});

const filler = (bytes: number) =>
  Array.from(
    { length: Math.ceil(bytes / 40) },
    (_, i) => `INFO request ${String(i).padStart(6, '0')} ok`,
  ).join('\n');
const keyBody = Array.from(
  { length: 26 },
  (_, i) => `MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC${String(i).padStart(2, '0')}Zq8mR3tYp6Kv`,
);

describe('red team: redaction at the cut of a log tail', () => {
  it('a key block whose BEGIN line the 4 KiB cut drops is still redacted', () => {
    // The BEGIN line sits just before where a 4 KiB tail starts: cut first, it would be gone.
    const log = `${filler(2000)}\n-----BEGIN PRIVATE KEY-----\n${keyBody.join('\n')}\n-----END PRIVATE KEY-----\n${filler(2400)}`;
    assert.ok(Buffer.byteLength(log) > MAX_LOG_TAIL_BYTES);
    const tail = redactedTail(log, MAX_LOG_TAIL_BYTES, redact);
    assert.ok(Buffer.byteLength(tail) <= MAX_LOG_TAIL_BYTES);
    for (const line of keyBody) assert.equal(tail.includes(line.slice(0, 40)), false, tail);
  });

  it('a key body that arrives with its BEGIN line already cut off (the API server cut) is redacted', () => {
    const log = `${keyBody.slice(10).join('\n')}\n-----END PRIVATE KEY-----\nlistening on :8443`;
    const tail = redactedTail(log, MAX_LOG_TAIL_BYTES, redact);
    for (const line of keyBody.slice(10)) assert.equal(tail.includes(line.slice(0, 40)), false, tail);
    assert.match(tail, /listening on :8443$/);
  });

  /** `text` followed by exactly `bytes` bytes of ordinary lines, so a 4 KiB cut lands where a test wants it. */
  const followedBy = (text: string, bytes: number) => {
    const lines = 'INFO request ok\n'.repeat(Math.floor(bytes / 16));
    return `${text}${'.'.repeat(bytes - lines.length)}${lines}`;
  };

  it('a secret whose key the cut separates from its value is not shipped', () => {
    // The cut falls inside `password=`: cut first, what remained would be `rd=…` and match no rule.
    const secret = 'Pl41nT3xtValue';
    const line = `ERROR login password=${secret} denied\n`;
    const fromCut = line.length - (line.indexOf('password=') + 4);
    const log = followedBy(`${filler(800)}\n${line}`, MAX_LOG_TAIL_BYTES - fromCut);
    assert.ok(lastBytesOf(log).startsWith(`word=${secret}`), 'the cut falls inside the key');
    assert.equal(redactedTail(log, MAX_LOG_TAIL_BYTES, redact).includes(secret), false);
  });

  it('a long single line cut inside a secret ships no part of it', () => {
    const secret = 'Zq8mR3tYp6Kv2NbXc9';
    const head = `ERROR upstream said: token=${secret} `;
    // After the head, exactly enough text that the 4 KiB cut lands 8 characters into the secret.
    const rest = MAX_LOG_TAIL_BYTES - (head.length - (head.indexOf(secret) + 8));
    const words = 'retrying '.repeat(Math.floor(rest / 9));
    const log = `${head}${' '.repeat(rest - words.length)}${words}`;
    const cut = Buffer.byteLength(log) - MAX_LOG_TAIL_BYTES;
    assert.ok(
      cut > head.indexOf(secret) && cut < head.indexOf(secret) + secret.length,
      'the cut falls inside the secret',
    );
    const tail = redactedTail(log, MAX_LOG_TAIL_BYTES, redact);
    for (let i = 0; i + 6 <= secret.length; i++)
      assert.equal(tail.includes(secret.slice(i, i + 6)), false, tail);
    assert.match(tail, /retrying $/);
  });
});

describe('red team: what the shipper queues', () => {
  /** A crash-looping pod whose waiting message, newest Warning event and log (4 tails long) carry secrets. */
  async function shipped(log: string, warning: string, waitingMessage: string): Promise<FailureEventBatch> {
    const pod: V1Pod = {
      metadata: { namespace: 'shop', name: 'cart-7d9f8b6c5-x2x4z', uid: 'uid-1' },
      spec: { containers: [{ name: 'app', image: 'cart:1' }] },
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'app',
            image: 'cart:1',
            imageID: '',
            ready: false,
            restartCount: 5,
            state: { waiting: { reason: 'CrashLoopBackOff', message: waitingMessage } },
          },
        ],
      },
    };
    const queued: ShipperMessage[] = [];
    const reporter = new ClusterReporter({
      clusterId: 'prod-eu-1',
      cache: {
        pods: () => [pod],
        nodes: () => [],
        replicaSetOwner: () => undefined,
        latestPodWarning: () => warning,
      },
      outbox: { enqueue: (message: ShipperMessage) => void queued.push(message) },
      logs: { tail: async () => log },
      metrics: createShipperMetrics(createRegistry('shipper')),
      logger: new RecordingLogger(),
      now: () => new Date('2026-12-03T10:00:00Z'),
      podsPerSnapshot: 100,
      maxRememberedFailures: 100,
    });
    await reporter.podChanged(pod);
    const batch = queued.find((m) => m.kind === 'failure-events');
    assert.ok(batch, 'a failure event was queued');
    return batch as FailureEventBatch;
  }

  it('a failure event carries no secret from its message, its Warning event or its log tail', async () => {
    const keyLines = keyBody.slice(0, 20);
    const log = `${filler(3000)}\n-----BEGIN RSA PRIVATE KEY-----\n${keyLines.join('\n')}\n-----END RSA PRIVATE KEY-----\n${filler(2600)}\nERROR WRONGPASS invalid username-password pair AUTH default Rd!s-9xQ2pLm`;
    const batch = await shipped(
      log,
      'Failed to pull image: unauthorized, https://deploy:Zx9mQ2pL@registry.shop.io/v2/',
      'back-off: connect failed password=Hunter2-S3cret',
    );
    const sent = JSON.stringify(batch);
    for (const secret of [
      'Rd!s-9xQ2pLm',
      'Zx9mQ2pL',
      'Hunter2-S3cret',
      ...keyLines.map((l) => l.slice(0, 40)),
    ])
      assert.equal(sent.includes(secret), false, `${secret} left the cluster`);
    const [event] = batch.events;
    assert.ok(Buffer.byteLength(event!.logTail ?? '') <= MAX_LOG_TAIL_BYTES);
    assert.match(event!.logTail ?? '', /AUTH default \[REDACTED:redis-auth\]$/);
  });
});
