// A stand-in for a Slack incoming webhook that refuses what Slack refuses (the Block Kit limits it enforces).
import { type Judge, parseJsonObject, type Receiver, startReceiver } from './http-receiver.js';

const MAX_BLOCKS = 50;
const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'video',
]);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const length = (text: string) => Array.from(text).length;

/** A composition text object: plain_text or mrkdwn, 1..max characters. */
function checkText(value: unknown, where: string, max: number, only?: 'plain_text'): string[] {
  if (!isObject(value)) return [`${where} must be a text object`];
  const allowed = only ? [only] : ['plain_text', 'mrkdwn'];
  if (!allowed.includes(value.type as string)) return [`${where}.type must be ${allowed.join(' or ')}`];
  if (typeof value.text !== 'string' || value.text.length === 0)
    return [`${where}.text must be a non-empty string`];
  const problems: string[] = [];
  if (length(value.text) > max) problems.push(`${where}.text must be at most ${max} characters`);
  if ('emoji' in value && (value.type !== 'plain_text' || typeof value.emoji !== 'boolean'))
    problems.push(`${where}.emoji is only a boolean on plain_text`);
  if ('verbatim' in value && (value.type !== 'mrkdwn' || typeof value.verbatim !== 'boolean'))
    problems.push(`${where}.verbatim is only a boolean on mrkdwn`);
  return problems;
}

function checkButton(element: Json, where: string, actionIds: Set<string>): string[] {
  const problems = checkText(element.text, `${where}.text`, 75, 'plain_text');
  if (
    'url' in element &&
    (typeof element.url !== 'string' || element.url.length > 3000 || !URL.canParse(element.url))
  )
    problems.push(`${where}.url must be a URL of at most 3000 characters`);
  if ('value' in element && (typeof element.value !== 'string' || length(element.value) > 2000))
    problems.push(`${where}.value must be at most 2000 characters`);
  if ('style' in element && element.style !== 'primary' && element.style !== 'danger')
    problems.push(`${where}.style must be primary or danger`);
  if ('action_id' in element) {
    if (
      typeof element.action_id !== 'string' ||
      element.action_id.length === 0 ||
      element.action_id.length > 255
    )
      problems.push(`${where}.action_id must be 1..255 characters`);
    else if (actionIds.has(element.action_id)) problems.push(`${where}.action_id is not unique`);
    else actionIds.add(element.action_id);
  }
  return problems;
}

function checkBlock(block: unknown, where: string, blockIds: Set<string>): string[] {
  if (!isObject(block)) return [`${where} must be an object`];
  if (typeof block.type !== 'string' || !BLOCK_TYPES.has(block.type))
    return [`${where}.type is not a block type`];
  const problems: string[] = [];
  if ('block_id' in block) {
    if (typeof block.block_id !== 'string' || block.block_id.length === 0 || block.block_id.length > 255)
      problems.push(`${where}.block_id must be 1..255 characters`);
    else if (blockIds.has(block.block_id)) problems.push(`${where}.block_id is not unique`);
    else blockIds.add(block.block_id);
  }
  switch (block.type) {
    case 'header':
      problems.push(...checkText(block.text, `${where}.text`, 150, 'plain_text'));
      break;
    case 'section': {
      if (!('text' in block) && !('fields' in block)) problems.push(`${where} needs text or fields`);
      if ('text' in block) problems.push(...checkText(block.text, `${where}.text`, 3000));
      if ('fields' in block) {
        const fields = block.fields;
        if (!Array.isArray(fields) || fields.length === 0 || fields.length > 10)
          problems.push(`${where}.fields must hold 1..10 text objects`);
        else problems.push(...fields.flatMap((f, i) => checkText(f, `${where}.fields[${i}]`, 2000)));
      }
      break;
    }
    case 'context': {
      const elements = block.elements;
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10) {
        problems.push(`${where}.elements must hold 1..10 elements`);
        break;
      }
      elements.forEach((e, i) => {
        const at = `${where}.elements[${i}]`;
        if (isObject(e) && e.type === 'image') {
          if (typeof e.alt_text !== 'string' || typeof e.image_url !== 'string')
            problems.push(`${at} image needs image_url and alt_text`);
        } else problems.push(...checkText(e, at, 3000));
      });
      break;
    }
    case 'actions': {
      const elements = block.elements;
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > 25) {
        problems.push(`${where}.elements must hold 1..25 elements`);
        break;
      }
      const actionIds = new Set<string>();
      elements.forEach((e, i) => {
        const at = `${where}.elements[${i}]`;
        if (!isObject(e) || typeof e.type !== 'string') problems.push(`${at} must be an element object`);
        else if (e.type === 'button') problems.push(...checkButton(e, at, actionIds));
      });
      break;
    }
    case 'divider':
      break;
    case 'image':
      if (typeof block.alt_text !== 'string' || length(block.alt_text) > 2000)
        problems.push(`${where}.alt_text must be at most 2000 characters`);
      if (typeof block.image_url !== 'string' && !isObject(block.slack_file))
        problems.push(`${where} needs image_url or slack_file`);
      break;
  }
  return problems;
}

export type SlackVerdict =
  | { ok: true }
  | { ok: false; error: 'invalid_payload' | 'no_text' | 'invalid_blocks'; problems: string[] };

/** Judges an incoming-webhook body as Slack does: JSON, some text or blocks, blocks within Block Kit's limits. */
export function validateSlackMessage(rawBody: string): SlackVerdict {
  const message = parseJsonObject(rawBody);
  if (!message) return { ok: false, error: 'invalid_payload', problems: ['body is not a JSON object'] };
  if ('text' in message && typeof message.text !== 'string')
    return { ok: false, error: 'invalid_payload', problems: ['text must be a string'] };
  if ('blocks' in message && !Array.isArray(message.blocks))
    return { ok: false, error: 'invalid_payload', problems: ['blocks must be an array'] };
  const blocks = (message.blocks as unknown[] | undefined) ?? [];
  const text = typeof message.text === 'string' ? message.text.trim() : '';
  if (text === '' && blocks.length === 0)
    return { ok: false, error: 'no_text', problems: ['neither text nor blocks'] };
  const problems: string[] = [];
  if (blocks.length > MAX_BLOCKS) problems.push(`at most ${MAX_BLOCKS} blocks`);
  const blockIds = new Set<string>();
  problems.push(...blocks.flatMap((block, i) => checkBlock(block, `blocks[${i}]`, blockIds)));
  return problems.length === 0 ? { ok: true } : { ok: false, error: 'invalid_blocks', problems };
}

const judgeSlack: Judge = ({ method, rawBody }) => {
  if (method !== 'POST')
    return { reply: { status: 405, body: 'invalid_method' }, problems: [`${method} is not POST`] };
  const verdict = validateSlackMessage(rawBody);
  return verdict.ok
    ? { reply: { status: 200, body: 'ok' }, problems: [] }
    : { reply: { status: 400, body: verdict.error }, problems: verdict.problems };
};

// Slack's error bodies are plain-text codes.
const slackFailure = (status: number) =>
  status === 429 ? 'rate_limited' : status >= 500 ? 'service_unavailable' : 'invalid_payload';

/** Serves any path, as webhook URLs are `/services/T…/B…/…`. */
export const startSlackReceiver = (options: { port?: number } = {}): Promise<Receiver> =>
  startReceiver(judgeSlack, slackFailure, options);
