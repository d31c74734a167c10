import { sqsFunction } from '../shared/lambda/sqs-function.js';
import { createLogger } from '../shared/logger.js';
import { loadInferenceConfig } from './config.js';
import { handleSamplesEvent } from './handle-samples-event.js';
import { createInferenceRuntime } from './runtime.js';

// Read once per container (a Redis password from its store): a bad configuration fails the cold start loudly.
const config = await loadInferenceConfig();
const logger = createLogger('kubepulse-inference', { stage: config.stage });

export const { handler, shutdown } = sqsFunction({
  name: 'kubepulse-inference',
  logger,
  pushgatewayUrl: config.pushgatewayUrl,
  start: () => createInferenceRuntime(config, logger),
  handle: (records, runtime) => handleSamplesEvent(records, runtime),
});
