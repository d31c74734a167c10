// One way to build an SQS client that talks to the local emulator, shared by tests, the runner and scripts.
import { SQSClient } from '@aws-sdk/client-sqs';

/** Region the emulator puts in its ARNs and the one every local client uses. */
export const LOCAL_REGION = 'us-east-1';
/** Account id the emulator puts in queue URLs and ARNs (local-aws-sqs's default). */
export const LOCAL_ACCOUNT_ID = '123456789012';

/**
 * An `SQSClient` for the local emulator at `endpoint` (e.g. `http://127.0.0.1:9324`): region us-east-1,
 * fake static credentials (the emulator checks none), and no retries-forever surprises.
 */
export function localSqsClient(endpoint: string, options: { maxAttempts?: number } = {}): SQSClient {
  return new SQSClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: options.maxAttempts ?? 3,
  });
}
