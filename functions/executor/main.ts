import { readConfigOrExit } from '../shared/config.js';
import { describeError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { startHttpServer } from './adapters/http-server.js';
import { readExecutorConfig } from './config.js';
import { runPoller } from './poller.js';
import { createExecutorRuntime } from './runtime.js';

// The in-cluster executor: a long-running process (not a Lambda) that polls the remediations queue.
const config = readConfigOrExit(readExecutorConfig, 'kubepulse-executor');
const logger = createLogger('kubepulse-executor', { stage: config.stage, cluster: config.clusterId });
const runtime = createExecutorRuntime(config, logger);
const { server, port } = await startHttpServer(config.httpPort, runtime.registry, runtime.health);
logger.info('executor started', {
  port,
  namespace: config.namespace,
  instance: config.instance,
  dryRunOnly: config.policy.dryRun,
  enabledActions: config.policy.enabledActions,
  // Which planner keys this executor trusts: the first thing to check when plans wait with an unknown key id.
  trustedKeyIds: [...config.keyring.keys()],
  maxPlanLifetimeSeconds: config.settings.maxPlanLifetimeSeconds,
});

const stopping = new AbortController();
const pruneTimer = setInterval(() => {
  const cutoff = new Date(Date.now() - config.ledgerRetentionHours * 3600 * 1000);
  runtime.ledger.prune(cutoff).then(
    (deleted) => deleted > 0 && logger.info('pruned old ledger entries', { deleted }),
    (error) => logger.warn('pruning the ledger failed', { error: describeError(error) }),
  );
}, 3600 * 1000);
// SIGTERM stops polling at once; the plan in progress, if any, is finished before the process exits.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info('stopping: finishing the current plan, then exiting', { signal });
    stopping.abort();
  });
}

await runPoller(runtime.poller, stopping.signal);
clearInterval(pruneTimer);
runtime.close();
server.close();
logger.info('executor stopped');
