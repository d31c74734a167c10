import { ConfigError } from '../errors.js';

/**
 * Removes secrets from text before it leaves for an LLM. Log tails, event messages and specs are written by
 * applications, so anything can be in them; the rules below err on the side of removing too much. Each rule
 * replaces what it finds with `[REDACTED:<rule>]`, so the model still sees that something was there.
 */
export interface RedactionResult {
  text: string;
  /** How many secrets were replaced. */
  count: number;
}

export interface Redactor {
  redact(text: string): RedactionResult;
}

interface Rule {
  name: string;
  pattern: RegExp;
  /** Receives the match and its groups; returns the replacement, or undefined to keep the match. */
  replace: (match: ReadonlyArray<string | undefined>) => string | undefined;
}

const mask = (name: string) => `[REDACTED:${name}]`;
/** Never redact what an earlier rule already replaced. */
const NOT_REDACTED = '(?!\\[REDACTED)';

// Key names whose values are secrets whatever they look like. `auth` but not `author`/`authorization`
// (the Authorization header has its own rule, which keeps the scheme). `pass` only as a whole word.
const SECRET_KEY_NAME =
  '(?:[A-Za-z0-9_.-]{0,40}(?:passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|account[_-]?key|shared[_-]?access[_-]?key|private[_-]?key|license[_-]?key|routing[_-]?key|signing[_-]?key|credentials?|auth(?!or))[A-Za-z0-9_.-]{0,40}|\\bpass)';
/** `secretsmanager:GetSecretValue` is an IAM action, in every access-denied message about a secret. */
const IAM_NAMESPACE = /^secretsmanager$/i;
/** Key names whose values are a password in any form: never taken for prose. */
const STRONG_KEY = /passw(?:or)?d|passphrase|pwd|secret|^pass$|key/i;
// A value: double-quoted, single-quoted, or a run without separators.
const VALUE = `(?:"${NOT_REDACTED}(?:[^"\\\\\\n]|\\\\.)*"|'${NOT_REDACTED}[^'\\n]*'|${NOT_REDACTED}[^\\s"',;&}\\]]+)`;
/** Characters of a token: base64 (both alphabets), hex and the separators vendors put in keys. */
const TOKEN_CHAR = 'A-Za-z0-9+/=_~\\-';

/** Replaces only the value of a key/value match, keeping its quotes so the surrounding JSON or YAML still reads. */
function maskValue(prefix: string, value: string, name: string): string {
  const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
  return `${prefix}${quote}${mask(name)}${quote}`;
}

const AUTH_SCHEMES = 'bearer|basic|digest|token|negotiate|aws4-hmac-sha256';

/** Bits per character; random tokens score high, words and identifiers low. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/**
 * Random enough to be a secret: long, letters mixed with digits or symbols, high entropy, and no piece that
 * reads as a word (`checkout-7d9f8b6c5-x2x4z` is a pod name, not a key). A mixed-case run such as
 * `wJalrXUtnFEMI` is not a word.
 */
export function looksRandom(text: string): boolean {
  if (text.length < 16 || shannonEntropy(text) < 3.2) return false;
  if (!/[A-Za-z]/.test(text) || !/[^A-Za-z]/.test(text)) return false;
  return !text.split(/[-_./:]/).some((piece) => /^(?:[a-z]{5,}|[A-Z][a-z]{4,})$/.test(piece));
}

/** Bare tokens are redacted only when they mix upper case, lower case and digits: hex hashes and ids do not. */
function looksLikeBareSecret(text: string): boolean {
  return /[A-Z]/.test(text) && /[a-z]/.test(text) && /[0-9]/.test(text) && looksRandom(text);
}

/** Keys whose long values are identifiers or hashes, not secrets (trace ids, digests, commits). */
const ID_KEY =
  /(?:^|[^a-z])(?:id|ids|uid|uuid|guid|sha\d*|md5|hash|digest|checksum|etag|commit|revision|rev|fingerprint|trace|span|request|correlation|parent|traceparent)$|Id$|ID$/i;

/**
 * A weak key (`token`, `auth`, `credentials`) followed by a word and more prose is a sentence, not a secret:
 * `ExpiredToken: The security token …`, `auth: user alice logged in`.
 */
function isProse(key: string, separator: string, value: string, after: string): boolean {
  if (STRONG_KEY.test(key.replace(/["']/g, ''))) return false;
  if (!separator.includes(':')) return false;
  return /^[A-Za-z][a-z]{0,15}$/.test(value) && /^[ \t]+\S/.test(after);
}

const RULES: Rule[] = [
  {
    // A log tail may be cut inside a key block, so an unterminated block runs to the end of the text.
    name: 'private-key',
    pattern:
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
    replace: () => mask('private-key'),
  },
  {
    // The other end: a tail cut after the BEGIN line starts inside the key body, which runs up to END.
    name: 'private-key',
    pattern:
      /(?:^|(?<=\n))(?:[A-Za-z0-9+/]{8,}={0,2}(?:\\n|\r?\n))+-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/g,
    replace: () => mask('private-key'),
  },
  {
    // Key material with neither end: two or more whole lines of base64 at PEM's line lengths.
    name: 'private-key',
    pattern: /(?:^|(?<=\n))(?:[A-Za-z0-9+/]{56,76}={0,2}(?:\r?\n|$)){2,}/g,
    replace: (m) => (m[0]!.endsWith('\n') ? `${mask('private-key')}\n` : mask('private-key')),
  },
  {
    name: 'authorization',
    pattern: new RegExp(
      `\\b((?:proxy-)?authori[sz]ation["']?\\s*[:=]\\s*["']?)(?!\\s|(?:${AUTH_SCHEMES})\\s+\\[REDACTED|\\[REDACTED)(?:(${AUTH_SCHEMES})\\s+)?[^\\s"',;]+`,
      'gi',
    ),
    replace: (m) => `${m[1]}${m[2] ? `${m[2]} ` : ''}${mask('authorization')}`,
  },
  {
    // Cookies carry sessions; the whole header value goes.
    name: 'cookie',
    pattern: /\b((?:set-)?cookie["']?[ \t]*:[ \t]*)(?![ \t]|\[REDACTED)[^\n"]+/gi,
    replace: (m) => `${m[1]}${mask('cookie')}`,
  },
  {
    name: 'bearer',
    pattern: /\b(bearer\s+)(?!\[REDACTED)[A-Za-z0-9\-._~+/]+=*/gi,
    replace: (m) => `${m[1]}${mask('bearer')}`,
  },
  {
    name: 'jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
    replace: () => mask('jwt'),
  },
  {
    // Webhook URLs are their own credential: whoever has the path may post. The host stays, the path goes.
    name: 'webhook-url',
    pattern:
      /\b(https?:\/\/(?:hooks\.slack\.com\/(?:services|workflows|triggers)|(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks|[a-z0-9-]+\.webhook\.office\.com\/webhookb2|api\.telegram\.org\/bot))\/?(?!\[REDACTED)[^\s"'<>]+/gi,
    replace: (m) => `${m[1]}/${mask('webhook-url')}`,
  },
  {
    // scheme://user:password@host and scheme://:password@host (Redis); the password may itself contain `@`.
    // A lone long user part is a key too (Sentry DSNs: https://<key>@host).
    name: 'url-credentials',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/)(?!\[REDACTED)(?:[^\s:/@]*:[^\s/]*|[A-Za-z0-9_-]{20,})@/gi,
    replace: (m) => `${m[1]}${mask('url-credentials')}@`,
  },
  {
    name: 'aws-access-key',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
    replace: () => mask('aws-access-key'),
  },
  {
    // Vendor tokens recognised by their documented prefixes, whatever surrounds them.
    name: 'token',
    pattern: new RegExp(
      `${[
        'gh[pousr]_[A-Za-z0-9]{30,}',
        'github_pat_[A-Za-z0-9_]{30,}',
        'gl(?:pat|rt|dt|ft|cbt|ptt|oas|soat|imt|agent)-[A-Za-z0-9_-]{16,}',
        'glsa_[A-Za-z0-9_]{32,}',
        'xox[abposre]-[A-Za-z0-9-]{10,}',
        'xapp-[A-Za-z0-9-]{10,}',
        'AIza[0-9A-Za-z_-]{35}',
        'ya29\\.[0-9A-Za-z_-]{20,}',
        '(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}',
        'whsec_[A-Za-z0-9]{16,}',
        'npm_[A-Za-z0-9]{36}',
        'pypi-[A-Za-z0-9_-]{50,}',
        'SG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}',
        'sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}',
        'sk-ant-[A-Za-z0-9_-]{20,}',
        'sk-[A-Za-z0-9]{32,}',
        'hv[sbr]\\.[A-Za-z0-9_-]{20,}',
        'shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}',
        'do[opr]_v1_[a-f0-9]{64}',
        'hf_[A-Za-z]{30,}',
        'key-[a-z0-9]{32}',
        'SK[0-9a-fA-F]{32}',
        'dapi[0-9a-f]{32}',
        'NRAK-[A-Z0-9]{27}',
        'xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}',
        'sq0(?:atp|csp)-[A-Za-z0-9_-]{22,}',
      ]
        .map((p) => `\\b${p}`)
        .join('|')}(?![A-Za-z0-9_-])`,
      'g',
    ),
    replace: () => mask('token'),
  },
  {
    // Redis's AUTH command echoed in an error (`WRONGPASS … AUTH default <pw>`) or a slow log: the last word.
    name: 'redis-auth',
    pattern: /\bAUTH[ \t]+(?!\S+[ \t]+\[REDACTED|\[REDACTED)(?:\S+[ \t]+)?(?=\S)[^\s()]+/g,
    replace: (m) => `${m[0]!.replace(/[^\s()]+$/, '')}${mask('redis-auth')}`,
  },
  {
    // Command lines: --password X, --token=X, mysql -pX, docker login -p X, curl -u user:pass.
    name: 'cli-flag',
    pattern: new RegExp(
      `((?:^|\\s)(?:--?(?:[a-z-]*(?:password|passwd|passphrase|token|secret|api-key|apikey|access-key|client-secret))(?:=|[ \\t]+)|(?:mysql|mysqldump|mariadb|mysqladmin)\\b[^\\n]*?[ \\t]-p(?=\\S)|docker[^\\n]*?\\blogin\\b[^\\n]*?[ \\t]-p[ \\t]+))(${VALUE})`,
      'gi',
    ),
    replace: (m) => maskValue(m[1]!, m[2]!, 'cli-flag'),
  },
  {
    name: 'cli-user',
    pattern: /((?:^|\s)(?:-u|--user)(?:=|[ \t]+)["']?[^\s:"']+:)(?!\[REDACTED)[^\s"']+/g,
    replace: (m) => `${m[1]}${mask('cli-user')}`,
  },
  {
    // `password%3D…` inside a URL-encoded body or query: the value runs to the next encoded `&`.
    name: 'url-encoded',
    pattern: new RegExp(`(${SECRET_KEY_NAME}%3D)(?!\\[REDACTED)(?:[^\\s&%]|%(?!26)[0-9A-Fa-f]{2})+`, 'gi'),
    replace: (m) => `${m[1]}${mask('url-encoded')}`,
  },
  {
    // Query-string signatures (Azure SAS `sig=`, S3 presigned `X-Amz-Signature=`), which no key name gives away.
    name: 'query-signature',
    pattern:
      /([?&;](?:sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|code|access_token|id_token|refresh_token)=)(?!\[REDACTED)[^\s&#"']+/gi,
    replace: (m) => `${m[1]}${mask('query-signature')}`,
  },
  {
    // Env entries of a pod spec, JSON (`{"name": "X", "value": "…"}`) or YAML (`- name: X` then `value: …`).
    name: 'env',
    pattern:
      /("name"\s*:\s*"[^"\n]*"\s*,\s*"value"\s*:\s*)("(?:[^"\\\n]|\\.)*")|(^[ \t]*-[ \t]*name:[ \t]*\S+[ \t]*\r?\n[ \t]*value:[ \t]*)(\S.*)$/gm,
    replace: (m) =>
      m[1] !== undefined
        ? maskValue(m[1], m[2]!, 'env')
        : m[4]!.startsWith('[REDACTED')
          ? undefined
          : maskValue(m[3]!, m[4]!, 'env'),
  },
  {
    name: 'secret',
    // Not inside an ARN (`…:secret:kubepulse/prod/key` names a secret, it is not one).
    pattern: new RegExp(
      `(?<!\\barn:[^\\s"']*)(${SECRET_KEY_NAME})(["']?[ \\t]*[:=][ \\t]*)(${VALUE})(?=([^\\n]{0,2}))`,
      'gi',
    ),
    replace: (m) =>
      IAM_NAMESPACE.test(m[1]!) || isProse(m[1]!, m[2]!, m[3]!, m[4] ?? '')
        ? undefined
        : maskValue(`${m[1]}${m[2]}`, m[3]!, 'secret'),
  },
  {
    // `key`, `signature`, `salt` and the like are too common to redact always: only values that look random.
    name: 'high-entropy',
    pattern: new RegExp(
      `(\\b[A-Za-z0-9_.-]{0,40}(?:key|secret|token|password|signature|salt|nonce|credential)["']?(?:[ \\t]*[:=][ \\t]*|[ \\t]+(?:is[ \\t]+)?))(${VALUE})`,
      'gi',
    ),
    replace: (m) =>
      looksRandom(m[2]!.replace(/^["']|["']$/g, '')) ? maskValue(m[1]!, m[2]!, 'secret') : undefined,
  },
  {
    // Any key at all with a long random value (32+ characters, hex included), unless the key names an id or hash.
    name: 'high-entropy',
    pattern: new RegExp(
      `(\\b([A-Za-z0-9_.-]{1,60})["']?[ \\t]*[:=][ \\t]*["']?)(${NOT_REDACTED}(?!\\/)[${TOKEN_CHAR}.]{32,})`,
      'g',
    ),
    replace: (m) => {
      const value = m[3]!;
      if (ID_KEY.test(m[2]!) || !/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return undefined;
      return shannonEntropy(value) >= 3.5 && looksRandom(value) ? `${m[1]}${mask('secret')}` : undefined;
    },
  },
  {
    // An environment dump or a shell line: `DATABASE_PASSWORD=…`, `STRIPE_KEY=…`. Every value goes.
    name: 'env-assignment',
    pattern: new RegExp(`(\\b[A-Z][A-Z0-9]*_[A-Z0-9_]+=)(${VALUE})`, 'g'),
    replace: (m) => maskValue(m[1]!, m[2]!, 'env'),
  },
  {
    // Whatever its key, a long token mixing upper case, lower case and digits is a secret (a bare AWS secret key).
    name: 'high-entropy',
    pattern: new RegExp(`(?<![${TOKEN_CHAR}.\\[])[${TOKEN_CHAR}]{32,}(?![${TOKEN_CHAR}])`, 'g'),
    replace: (m) => (looksLikeBareSecret(m[0]!) ? mask('secret') : undefined),
  },
];

function applyRule(text: string, rule: Rule): RedactionResult {
  let count = 0;
  const redacted = text.replace(rule.pattern, (...args: unknown[]) => {
    // replace() passes the match, each group, then the offset and the whole input.
    const match = args.slice(0, -2) as Array<string | undefined>;
    const replacement = rule.replace(match);
    if (replacement === undefined) return match[0]!;
    count++;
    return replacement;
  });
  return { text: redacted, count };
}

/**
 * Builds a redactor from the built-in rules and optional extra patterns (regular expression sources from
 * configuration; their whole match is replaced).
 */
export function createRedactor(extraPatterns: readonly string[] = []): Redactor {
  const extra: Rule[] = extraPatterns.map((source, index) => {
    let pattern: RegExp;
    try {
      pattern = new RegExp(source, 'g');
    } catch (error) {
      throw new ConfigError(`redaction pattern ${index + 1} is not a regular expression`, { cause: error });
    }
    // A pattern that matches nothing would insert a marker between every character.
    if (new RegExp(source).test(''))
      throw new ConfigError(`redaction pattern ${index + 1} matches the empty string`);
    return { name: `custom-${index + 1}`, pattern, replace: () => mask('custom') };
  });
  const rules = [...RULES, ...extra];
  return {
    redact(text) {
      let count = 0;
      let current = text;
      for (const rule of rules) {
        const result = applyRule(current, rule);
        current = result.text;
        count += result.count;
      }
      return { text: current, count };
    },
  };
}
