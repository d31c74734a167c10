import { sqsFunction } from '../shared/lambda/sqs-function.js';
import { createLogger } from '../shared/logger.js';
import { loadPlannerConfig } from './config.js';
import { handlePlannerEvent, llmDeadlineOf } from './handle-planner-event.js';
import { createPlannerRuntime } from './runtime.js';

// Read once per container, secrets fetched from their stores: a bad policy, key or setting fails the cold start
// loudly.
const config = await loadPlannerConfig();
const logger = createLogger('kubepulse-planner', { stage: config.stage });

export const { handler, shutdown } = sqsFunction({
  name: 'kubepulse-planner',
  logger,
  pushgatewayUrl: config.pushgatewayUrl,
  start: () => createPlannerRuntime(config, logger),
  handle: (records, runtime, context) => handlePlannerEvent(records, runtime, llmDeadlineOf(context)),
});
