/**
 * Bounds a call that has no timeout of its own (the Kubernetes client's requests): an API server that accepts the
 * connection and never answers must become an error the caller can retry, not a process stuck forever. The
 * request itself is not cancelled; its late answer is ignored.
 */
export function withDeadline<A extends unknown[], R>(
  call: (...args: A) => Promise<R>,
  timeoutMs: number,
  server = 'the API server',
): (...args: A) => Promise<R> {
  return (...args: A): Promise<R> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${server} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([call(...args), timeout]).finally(() => clearTimeout(timer));
  };
}
