// What a person would see as live in a delivered alert: links a client would open and mentions it would ping.
// For tests that model-written text reaches people inert (issue 14). Button and `links` URLs are the product's
// own (alert.links) and are reported apart, so a test can allow them.
import type { ReceivedRequest } from './http-receiver.js';

export interface LiveContent {
  /** Clickable URLs or host names in text (Slack and PagerDuty link bare URLs and known domains). */
  links: string[];
  /** Mentions a client would resolve: <!channel>, <!here>, <@U…>, <!subteam^…>, @here, @channel, @everyone. */
  mentions: string[];
  /** URLs the product put in buttons or PagerDuty links. */
  productLinks: string[];
}

const LINKED_TLDS =
  'com|net|org|io|dev|app|ai|co|me|info|biz|xyz|online|site|top|link|click|live|shop|store|cloud|page|sh|ly|gg|tk|ru|cn|uk|de|fr|eu|us|example|test|zip|mov';
const BARE_URL = /\b(?:https?|ftp):\/\/[^\s<>|"]+/gi;
const WWW = /\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+/gi;
const DOMAIN = new RegExp(
  `\\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+(?:${LINKED_TLDS})\\b(?![.-]?[a-z0-9])`,
  'gi',
);
const SLACK_LINK = /<((?:https?|mailto|ftp):[^>]*)>/gi;
// <!date^…> is Slack's date formatting, which the product uses; it pings nobody.
const SLACK_MENTION = /<(?:![a-z]+(?!date)[^>]*|@[A-Z0-9]+[^>]*|#C[A-Z0-9]+[^>]*)>/g;
const PLAIN_MENTION = /(?:^|[^\w])@(?:here|channel|everyone|all)\b/gi;

function scanText(text: string, into: LiveContent, slackSyntax: boolean): void {
  // In Slack's mrkdwn, escaped angle brackets (&lt; &gt;) are text, not syntax.
  if (slackSyntax) {
    for (const m of text.matchAll(SLACK_LINK)) into.links.push(m[0]);
    for (const m of text.matchAll(SLACK_MENTION)) if (!m[0].startsWith('<!date^')) into.mentions.push(m[0]);
  }
  const plain = slackSyntax ? text.replace(/<[^>]*>/g, ' ') : text;
  for (const pattern of [BARE_URL, WWW, DOMAIN])
    for (const m of plain.matchAll(pattern)) into.links.push(m[0]);
  for (const m of plain.matchAll(PLAIN_MENTION)) into.mentions.push(m[0].trim());
}

const strings = (value: unknown, out: string[] = []): string[] => {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
};

/** Live content of free text wherever it may be shown later (Slack's syntax included): for stored text. */
export function liveInText(text: string): LiveContent {
  const live: LiveContent = { links: [], mentions: [], productLinks: [] };
  scanText(text, live, true);
  return live;
}

/** Live content of a Slack incoming-webhook body: every text object and the fallback text; buttons apart. */
export function liveInSlack(rawBody: string): LiveContent {
  const live: LiveContent = { links: [], mentions: [], productLinks: [] };
  const message = JSON.parse(rawBody) as { text?: string; blocks?: Array<Record<string, unknown>> };
  if (message.text) scanText(message.text, live, true);
  for (const block of message.blocks ?? []) {
    if (block.type === 'actions') {
      for (const element of (block.elements as Array<{ url?: string }>) ?? [])
        if (element.url) live.productLinks.push(element.url);
      continue;
    }
    const texts: Array<{ type?: string; text?: string }> = [];
    if (block.text) texts.push(block.text as { text?: string });
    if (Array.isArray(block.fields)) texts.push(...(block.fields as Array<{ text?: string }>));
    if (Array.isArray(block.elements)) texts.push(...(block.elements as Array<{ text?: string }>));
    for (const t of texts) if (t.text) scanText(t.text, live, t.type === 'mrkdwn');
  }
  return live;
}

/** Live content of a PagerDuty Events v2 body: every string of the payload; `links` apart. */
export function liveInPagerDuty(rawBody: string): LiveContent {
  const live: LiveContent = { links: [], mentions: [], productLinks: [] };
  const event = JSON.parse(rawBody) as { payload?: unknown; links?: Array<{ href: string }> };
  for (const text of strings(event.payload)) scanText(text, live, false);
  for (const link of event.links ?? []) live.productLinks.push(link.href);
  return live;
}

/** Live content of a webhook body (the alert): its title and summary; `links` apart. */
export function liveInWebhook(rawBody: string): LiveContent {
  const live: LiveContent = { links: [], mentions: [], productLinks: [] };
  const alert = JSON.parse(rawBody) as { title?: string; summary?: string; links?: Array<{ url: string }> };
  for (const text of [alert.title ?? '', alert.summary ?? '']) scanText(text, live, false);
  for (const link of alert.links ?? []) live.productLinks.push(link.url);
  return live;
}

/** Live content of whatever a receiver got, by which receiver it was. */
export function liveIn(kind: 'slack' | 'pagerDuty' | 'webhook', request: ReceivedRequest): LiveContent {
  return kind === 'slack'
    ? liveInSlack(request.rawBody)
    : kind === 'pagerDuty'
      ? liveInPagerDuty(request.rawBody)
      : liveInWebhook(request.rawBody);
}
