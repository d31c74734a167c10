import type { CoreV1Api } from '@kubernetes/client-node';
import { MAX_LOG_TAIL_BYTES } from '../../shared/contracts/index.js';
import type { LogSource, LogTailRequest } from '../core/ports.js';

/** pods/log through the API server, bounded by lines and bytes on the server side. */
export class KubeLogSource implements LogSource {
  constructor(
    private readonly core: CoreV1Api,
    private readonly tailLines: number,
  ) {}

  async tail(request: LogTailRequest): Promise<string | undefined> {
    const text = await this.core.readNamespacedPodLog({
      name: request.pod,
      namespace: request.namespace,
      container: request.container,
      previous: request.previous,
      tailLines: this.tailLines,
      limitBytes: MAX_LOG_TAIL_BYTES,
    });
    return text || undefined;
  }
}
