// A stand-in for PagerDuty's Events API v2 (POST /v2/enqueue) that refuses the events PagerDuty refuses.
import { randomBytes } from 'node:crypto';
import { type Judge, parseJsonObject, type Receiver, startReceiver } from './http-receiver.js';

export const PAGERDUTY_ENQUEUE_PATH = '/v2/enqueue';
const EVENT_ACTIONS = ['trigger', 'acknowledge', 'resolve'];
const SEVERITIES = ['critical', 'error', 'warning', 'info'];

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const blank = (value: unknown) => typeof value !== 'string' || value.trim() === '';

function payloadErrors(payload: unknown): string[] {
  if (!isObject(payload)) return ["'payload' is missing or not an object"];
  const errors: string[] = [];
  if (blank(payload.summary)) errors.push("'payload.summary' is missing or blank");
  else if (Array.from(payload.summary as string).length > 1024)
    errors.push("'payload.summary' is too long (at most 1024 characters)");
  if (blank(payload.source)) errors.push("'payload.source' is missing or blank");
  if (!SEVERITIES.includes(payload.severity as string))
    errors.push(`'payload.severity' is invalid (must be one of: ${SEVERITIES.join(', ')})`);
  if (
    'timestamp' in payload &&
    (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp)))
  )
    errors.push("'payload.timestamp' is not a valid ISO 8601 timestamp");
  for (const field of ['component', 'group', 'class'])
    if (field in payload && typeof payload[field] !== 'string')
      errors.push(`'payload.${field}' must be a string`);
  return errors;
}

/** The errors PagerDuty would list for this event body; empty when it would accept it. */
export function validatePagerDutyEvent(rawBody: string): string[] {
  const event = parseJsonObject(rawBody);
  if (!event) return ['Event object is not valid JSON'];
  const errors: string[] = [];
  if (typeof event.routing_key !== 'string') errors.push("'routing_key' is missing");
  else if (event.routing_key.length !== 32)
    errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (!EVENT_ACTIONS.includes(event.event_action as string))
    errors.push(`'event_action' is invalid (must be one of: ${EVENT_ACTIONS.join(', ')})`);
  if ('dedup_key' in event && (typeof event.dedup_key !== 'string' || event.dedup_key.length > 255))
    errors.push("'dedup_key' must be a string of at most 255 characters");
  if (event.event_action === 'trigger') errors.push(...payloadErrors(event.payload));
  else if (blank(event.dedup_key))
    errors.push(`'dedup_key' is required to ${String(event.event_action)} an alert`);
  if ('links' in event) {
    if (!Array.isArray(event.links)) errors.push("'links' must be an array");
    else
      event.links.forEach((link, i) => {
        if (!isObject(link) || typeof link.href !== 'string' || !URL.canParse(link.href))
          errors.push(`'links[${i}].href' must be a URL`);
      });
  }
  if ('client' in event && typeof event.client !== 'string') errors.push("'client' must be a string");
  return errors;
}

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

const judgePagerDuty: Judge = ({ method, path, rawBody }) => {
  if (path !== PAGERDUTY_ENQUEUE_PATH || method !== 'POST')
    return {
      reply: json(404, { status: 'not found', message: 'Not found' }),
      problems: [`${method} ${path}`],
    };
  const errors = validatePagerDutyEvent(rawBody);
  if (errors.length > 0)
    return {
      reply: json(400, { status: 'invalid event', message: 'Event object is invalid', errors }),
      problems: errors,
    };
  const event = parseJsonObject(rawBody)!;
  // PagerDuty makes up a key when a trigger brings none.
  const dedupKey = typeof event.dedup_key === 'string' ? event.dedup_key : randomBytes(16).toString('hex');
  return {
    reply: json(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey }),
    problems: [],
  };
};

const pagerDutyFailure = (status: number) =>
  JSON.stringify(
    status === 400
      ? {
          status: 'invalid event',
          message: 'Event object is invalid',
          errors: ['rejected on purpose by the test'],
        }
      : status === 429
        ? { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' }
        : { status: 'unavailable', message: 'Service unavailable' },
  );

/** Events go to `${url}/v2/enqueue`. */
export const startPagerDutyReceiver = (options: { port?: number } = {}): Promise<Receiver> =>
  startReceiver(judgePagerDuty, pagerDutyFailure, options);
