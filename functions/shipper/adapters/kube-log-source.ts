import type { CoreV1Api } from '@kubernetes/client-node';
import { MAX_LOG_TAIL_BYTES } from '../../shared/contracts/index.js';
import { withDeadline } from '../../shared/deadline.js';
import type { LogSource, LogTailRequest } from '../core/ports.js';

/**
 * The API server returns at most this many bytes; more than a tail holds, so the shipper redacts before it cuts
 * to MAX_LOG_TAIL_BYTES (a secret's key and value, or a key block's BEGIN line and body, stay together).
 */
export const LOG_READ_BYTES = 4 * MAX_LOG_TAIL_BYTES;

/** pods/log through the API server, bounded by lines and bytes on the server side and by a request timeout. */
export class KubeLogSource implements LogSource {
  private readonly readLog: CoreV1Api['readNamespacedPodLog'];

  constructor(
    core: CoreV1Api,
    private readonly tailLines: number,
    requestTimeoutMs = 15_000,
  ) {
    this.readLog = withDeadline(
      core.readNamespacedPodLog.bind(core),
      requestTimeoutMs,
    ) as typeof this.readLog;
  }

  async tail(request: LogTailRequest): Promise<string | undefined> {
    const text = await this.readLog({
      name: request.pod,
      namespace: request.namespace,
      container: request.container,
      previous: request.previous,
      tailLines: this.tailLines,
      limitBytes: LOG_READ_BYTES,
    });
    return text || undefined;
  }
}
