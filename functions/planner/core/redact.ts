import { ConfigError } from '../../shared/errors.js';

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
// (the Authorization header has its own rule, which keeps the scheme).
const SECRET_KEY_NAME =
  '[A-Za-z0-9_.-]{0,40}(?:passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth(?!or))[A-Za-z0-9_.-]{0,40}';
// A value: double-quoted, single-quoted, or a run without separators.
const VALUE = `(?:"${NOT_REDACTED}(?:[^"\\\\\\n]|\\\\.)*"|'${NOT_REDACTED}[^'\\n]*'|${NOT_REDACTED}[^\\s"',;&}\\]]+)`;

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
 * reads as a word (`checkout-7d9f8b6c5-x2x4z` is a pod name, not a key).
 */
export function looksRandom(text: string): boolean {
  if (text.length < 16 || shannonEntropy(text) < 3.2) return false;
  if (!/[A-Za-z]/.test(text) || !/[^A-Za-z]/.test(text)) return false;
  return !text.split(/[-_./:]/).some((piece) => /^[A-Za-z]{5,}$/.test(piece));
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
    // scheme://user:password@host and scheme://:password@host (Redis); the password may itself contain `@`.
    name: 'url-credentials',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/)(?!\[REDACTED)[^\s:/@]*:[^\s/]*@/gi,
    replace: (m) => `${m[1]}${mask('url-credentials')}@`,
  },
  {
    name: 'aws-access-key',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g,
    replace: () => mask('aws-access-key'),
  },
  {
    name: 'token',
    pattern:
      /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36})\b/g,
    replace: () => mask('token'),
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
    pattern: new RegExp(`(${SECRET_KEY_NAME}["']?[ \\t]*[:=][ \\t]*)(${VALUE})`, 'gi'),
    replace: (m) => maskValue(m[1]!, m[2]!, 'secret'),
  },
  {
    // `key`, `signature`, `salt` and the like are too common to redact always: only values that look random.
    name: 'high-entropy',
    pattern: new RegExp(
      `(\\b[A-Za-z0-9_.-]{0,40}(?:key|secret|token|password|signature|salt|nonce)["']?(?:[ \\t]*[:=][ \\t]*|[ \\t]+(?:is[ \\t]+)?))(${VALUE})`,
      'gi',
    ),
    replace: (m) =>
      looksRandom(m[2]!.replace(/^["']|["']$/g, '')) ? maskValue(m[1]!, m[2]!, 'secret') : undefined,
  },
  {
    // An environment dump or a shell line: `DATABASE_PASSWORD=…`, `STRIPE_KEY=…`. Every value goes.
    name: 'env-assignment',
    pattern: new RegExp(`(\\b[A-Z][A-Z0-9]*_[A-Z0-9_]+=)(${VALUE})`, 'g'),
    replace: (m) => maskValue(m[1]!, m[2]!, 'env'),
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
