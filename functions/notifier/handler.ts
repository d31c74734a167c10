import { sqsFunction } from '../shared/lambda/sqs-function.js';
import { createLogger } from '../shared/logger.js';
import { loadNotifierConfig } from './config.js';
import { handleAlertsEvent } from './handle-alerts-event.js';
import { createNotifierRuntime } from './runtime.js';

// Read once per container, secrets fetched from their stores: no destination, or a bad one, fails the cold start.
const config = await loadNotifierConfig();
const logger = createLogger('kubepulse-notifier', { stage: config.stage });

/** Time kept back from Lambda's deadline to quarantine, answer and push metrics after the last delivery. */
const FINISHING_MS = 3000;

export const { handler, shutdown } = sqsFunction({
  name: 'kubepulse-notifier',
  logger,
  pushgatewayUrl: config.pushgatewayUrl,
  start: () => createNotifierRuntime(config, logger),
  handle: (records, runtime, context) =>
    handleAlertsEvent(records, runtime, Date.now() + context.getRemainingTimeInMillis() - FINISHING_MS),
});
