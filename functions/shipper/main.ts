// The shipper's process entry: one long-running process per cluster (infra/kubernetes/shipper/).
import { SQSClient } from '@aws-sdk/client-sqs';
import { KubeConfig } from '@kubernetes/client-node';
import { readConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { startShipper } from './app.js';
import { readShipperConfig } from './config.js';

const config = readConfigOrExit(readShipperConfig, 'kubepulse-shipper');
const logger = createLogger('kubepulse-shipper', { stage: config.stage, clusterId: config.clusterId });
// In a pod: the service account token; elsewhere: $KUBECONFIG or ~/.kube/config.
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
// Region, credentials (IRSA's web identity token) and AWS_ENDPOINT_URL_SQS come from the environment.
const sqs = new SQSClient({});

const shipper = await startShipper(config, { kubeConfig, sqs, logger });
logger.info('shipper started', { http: shipper.url });

let exiting = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (exiting) return;
    exiting = true;
    logger.info('stopping: flushing the outbox and saving the checkpoint', { signal });
    shipper
      .stop()
      .then(() => {
        sqs.destroy();
        process.exit(0);
      })
      .catch((error) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      });
  });
}
