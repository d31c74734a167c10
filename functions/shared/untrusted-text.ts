import { createRedactor, type Redactor } from './redaction/redact.js';
import { clipCodePoints } from './text.js';

/**
 * Text the product did not write (the model's diagnosis and rationale, log lines and event messages quoted in
 * them) is data, never instructions or links, wherever a human reads it. Neutralising it: secrets redacted, URLs
 * defanged so no client links them (`hxxps://evil[.]example/…`), mentions and Slack's control syntax made inert,
 * length bounded. Idempotent: neutralising neutralised text changes nothing, so every stage may do it again.
 */

// Bare domains that chat clients link without a scheme: the common generic and abused top-level domains.
const LINKED_TLDS =
  'com|net|org|io|dev|app|ai|co|me|info|biz|xyz|online|site|top|link|click|live|shop|store|cloud|page|sh|ly|gg|tk|ru|cn|uk|de|fr|eu|us|example|test|zip|mov';
/** A host that a client would make a link of: any host after a scheme or `www.`, or a name ending in a linked TLD. */
const SCHEME_URL = /\b([a-z][a-z0-9+.-]{1,15}):\/\/([^\s/?#<>"'`|]+)/gi;
const WWW_HOST = /\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)*/gi;
const BARE_DOMAIN = new RegExp(
  `\\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+(?:${LINKED_TLDS})\\b(?![.-]?[a-z0-9])`,
  'gi',
);
const DEFANGED_SCHEMES: Record<string, string> = {
  http: 'hxxp',
  https: 'hxxps',
  ftp: 'fxp',
  ws: 'wx',
  wss: 'wxs',
};

/** Dots not already bracketed become `[.]`. */
const defangHost = (host: string) => host.replace(/(?<!\[)\.(?!\])/g, '[.]');
const ALREADY_DEFANGED = new Set(Object.values(DEFANGED_SCHEMES));

/** URLs and linkable host names made inert: schemes rewritten, dots in host names bracketed. */
export function defangUrls(text: string): string {
  return text
    .replace(SCHEME_URL, (_, scheme: string, host: string) => {
      const lower = scheme.toLowerCase();
      if (ALREADY_DEFANGED.has(lower) || lower.endsWith('[')) return `${scheme}://${defangHost(host)}`;
      return `${DEFANGED_SCHEMES[lower] ?? `${lower}[:]`}://${defangHost(host)}`;
    })
    .replace(WWW_HOST, defangHost)
    .replace(BARE_DOMAIN, defangHost);
}

/**
 * Mentions and Slack's link syntax made inert: `<!channel>`, `<!here>`, `<!subteam^…>`, `<@U…>`, `<#C…>` and
 * `<url|text>` lose their angle brackets (to `‹ ›`), and `@here`, `@channel`, `@everyone` or `@someone` at a word
 * start get a full-width at sign that no client resolves. Email addresses keep theirs (their domain is defanged).
 */
export function neutraliseMentions(text: string): string {
  return text
    .replace(/<([!@#][^<>\n]{0,200}|[a-z][a-z0-9+.-]*:[^<>\n]{0,2000})>/gi, '‹$1›')
    .replace(/(^|[^\w@.+-])@(?=[\w.-])/g, '$1＠');
}

/** Control characters other than newline and tab, which clients may render or act on. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069]/g;

const BUILT_IN_REDACTOR = createRedactor();

/** All of it: redacted, defanged, mentions inert, invisible and direction-changing characters removed, bounded. */
export function neutraliseUntrusted(
  text: string,
  maxCodePoints: number,
  redactor: Redactor = BUILT_IN_REDACTOR,
): string {
  const inert = neutraliseMentions(defangUrls(redactor.redact(text.replace(CONTROL, '')).text));
  return clipCodePoints(inert, maxCodePoints);
}
