import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import { createRedactor, looksRandom } from './redact.js';

// Each line carries a secret (the second element) that must not survive redaction.
const SECRETS: Array<[string, string]> = [
  [
    '2026-11-21T10:00:01Z ERROR db connect failed url=postgres://checkout:S3cr3t-P4ss@db.shop.svc:5432/orders',
    'S3cr3t-P4ss',
  ],
  ['redis connection lost: redis://:r3d1sP@ss!word@redis-master:6379/0, retrying', 'r3d1sP@ss!word'],
  ['MONGO_URL mongodb+srv://admin:m0ng0Pa55@cluster0.abcde.mongodb.net/test?retryWrites=true', 'm0ng0Pa55'],
  ['connecting to amqp://guest:Gu3stRabbit@rabbitmq.shop:5672/ vhost=/', 'Gu3stRabbit'],
  ['mysql://root:rootpw123@mysql:3306/app', 'rootpw123'],
  [
    '> GET /orders HTTP/1.1\n> Authorization: Bearer abcdef0123456789abcdef0123456789\n> Accept: */*',
    'abcdef0123456789abcdef0123456789',
  ],
  ['curl -H "Authorization: Basic dXNlcjpwYXNzd29yZA==" http://api', 'dXNlcjpwYXNzd29yZA=='],
  [
    'upstream rejected request headers={"authorization":"Bearer sk-proj-Abc123Def456Ghi789"}',
    'sk-proj-Abc123Def456Ghi789',
  ],
  ['calling billing with bearer 7f3a9c1e5b2d8f4a6c0e', '7f3a9c1e5b2d8f4a6c0e'],
  [
    'WARN token validation failed for eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  ],
  ['boto3 using credentials AKIAIOSFODNN7EXAMPLE from env', 'AKIAIOSFODNN7EXAMPLE'],
  [
    'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ],
  [
    'loaded key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq9Xk2Lw0Zr\nq8Wb3QmT5uV1nP0sYc7dJh2KfGx\n-----END RSA PRIVATE KEY-----\nserver started',
    'MIIEowIBAAKCAQEA7bq9Xk2Lw0Zr',
  ],
  [
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ (truncated',
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ',
  ],
  ['login attempt user=alice password=hunter2 result=denied', 'hunter2'],
  [
    'config: {"user":"svc","password": "correct horse battery staple","port":5432}',
    'correct horse battery staple',
  ],
  ["database:\n  host: pg\n  password: 'Tr0ub4dor&3'\n  pool: 10", 'Tr0ub4dor&3'],
  ['database:\n  passwd: plainTextPass\n', 'plainTextPass'],
  ['DB_PASSWORD="p@ss w0rd" ./start.sh', 'p@ss w0rd'],
  ['oauth client_secret=Zx9Qw8Er7Ty6Ui5Op4As3Df2 scope=read', 'Zx9Qw8Er7Ty6Ui5Op4As3Df2'],
  ['X-Api-Key: 3c9f0e1d2b4a5c6e7f8091a2b3c4d5e6', '3c9f0e1d2b4a5c6e7f8091a2b3c4d5e6'],
  ['using api key 9F8a7B6c5D4e3F2a1B0c9D8e', '9F8a7B6c5D4e3F2a1B0c9D8e'],
  [
    'the session token is 8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92',
    '8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92',
  ],
  ['git clone with ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'],
  ['slack webhook xoxb-123456789012-abcdefghijklmnop failed', 'xoxb-123456789012-abcdefghijklmnop'],
  [
    '"env":[{"name":"STRIPE_WEBHOOK","value":"whsec_abc123XYZ"},{"name":"LOG_LEVEL","value":"debug"}]',
    'whsec_abc123XYZ',
  ],
  [
    '    env:\n    - name: SESSION_COOKIE_SALT\n      value: kj3h4kj5h3k4j5h\n    - name: PORT',
    'kj3h4kj5h3k4j5h',
  ],
  ['environment: API_SHARED_SECRET=Qm9vbXNoYWthbGFrYQ HOME=/root', 'Qm9vbXNoYWthbGFrYQ'],
  ['export PAYMENT_GATEWAY_URL=https://gw.example/pay', 'https://gw.example/pay'],
  ['{"accessToken":"ya29.a0AfH6SMBx3"}', 'ya29.a0AfH6SMBx3'],
  ['Set-Cookie: session=1; api-token: t0k3n-v4lu3-here', 't0k3n-v4lu3-here'],
  ['< Set-Cookie: JSESSIONID=8F3A2B1C9D0E7F6A; Path=/; HttpOnly', '8F3A2B1C9D0E7F6A'],
];

// Ordinary diagnostic text that must come through unchanged.
const ORDINARY = [
  'Container app in pod checkout-7d9f8b6c5-x2x4z was OOMKilled (exit code 137)',
  'Back-off restarting failed container app in pod shop/checkout-7d9f8b6c5-x2x4z',
  'memory limit 536870912 bytes (512Mi), working set 510Mi, 98.2% of limit',
  'GET /api/v1/orders 200 12ms bytes=5120',
  'Successfully assigned shop/web-0 to ip-10-0-1-23.eu-west-1.compute.internal',
  'cache key: user-123 miss',
  'author: alice merged PR 42',
  'tokenizer loaded 3 models in 1.2s',
  'Failed to pull image "registry.example.com/shop/checkout:1.4.2": not found',
  'cpu throttled 43% over 5m, requests 500m, limits 1',
  'java.lang.OutOfMemoryError: Java heap space at com.shop.Cart.add(Cart.java:88)',
];

describe('redaction', () => {
  const redactor = createRedactor();

  for (const [line, secret] of SECRETS) {
    it(`removes ${secret.slice(0, 24)}`, () => {
      const { text, count } = redactor.redact(line);
      assert.equal(text.includes(secret), false, text);
      assert.ok(count >= 1);
      assert.match(text, /\[REDACTED:/);
    });
  }

  it('removes every secret when they all arrive in one log tail', () => {
    // An unterminated key block runs to the end of the text, so it goes last.
    const ordered = [...SECRETS].sort(
      ([a], [b]) => Number(a.includes('OPENSSH')) - Number(b.includes('OPENSSH')),
    );
    const { text, count } = redactor.redact(ordered.map(([line]) => line).join('\n'));
    for (const [, secret] of SECRETS) assert.equal(text.includes(secret), false, secret);
    assert.ok(count >= SECRETS.length, `${count} replacements`);
  });

  it('leaves ordinary diagnostic text alone', () => {
    for (const line of ORDINARY) assert.deepEqual(redactor.redact(line), { text: line, count: 0 }, line);
  });

  it('keeps the context around a secret readable', () => {
    assert.equal(
      redactor.redact('connect postgres://app:pw1@db:5432/x failed after 3 tries').text,
      'connect postgres://[REDACTED:url-credentials]@db:5432/x failed after 3 tries',
    );
    assert.equal(
      redactor.redact('{"password":"x1","port":5432}').text,
      '{"password":"[REDACTED:secret]","port":5432}',
    );
    assert.equal(
      redactor.redact('Authorization: Bearer abc.def').text,
      'Authorization: Bearer [REDACTED:authorization]',
    );
  });

  it('is idempotent: redacting redacted text finds nothing more', () => {
    const once = redactor.redact(SECRETS.map(([line]) => line).join('\n')).text;
    assert.deepEqual(redactor.redact(once), { text: once, count: 0 });
  });

  it('counts each secret once', () => {
    assert.equal(redactor.redact('password=a token=b').count, 2);
    assert.equal(redactor.redact('Authorization: Bearer abcdefghijkl').count, 1);
  });

  it('applies configured extra patterns', () => {
    const custom = createRedactor(['acct-[0-9]{6}']);
    assert.deepEqual(custom.redact('charge acct-123456 declined'), {
      text: 'charge [REDACTED:custom] declined',
      count: 1,
    });
    assert.throws(() => createRedactor(['(']), ConfigError);
    assert.throws(() => createRedactor(['x*']), ConfigError);
  });

  it('stays fast on long hostile input', () => {
    const hostile = `${'a.b-c_d'.repeat(700)}=${'x'.repeat(2000)} ${'password'.repeat(300)}`;
    const { text } = redactor.redact(hostile);
    assert.ok(text.length > 0);
  });

  it('tells random tokens from words and identifiers', () => {
    assert.equal(looksRandom('9F8a7B6c5D4e3F2a1B0c9D8e'), true);
    assert.equal(looksRandom('checkout-7d9f8b6c5-x2x4z'), false);
    assert.equal(looksRandom('user-123'), false);
    assert.equal(looksRandom('configuration-reloaded'), false);
  });
});
