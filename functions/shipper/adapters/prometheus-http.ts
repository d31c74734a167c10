import { z } from 'zod';
import { DependencyUnavailableError } from '../../shared/errors.js';
import { PrometheusQueryError } from '../core/errors.js';
import type { PrometheusPort, RangeSeries } from '../core/ports.js';

const MatrixResponse = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('matrix'),
    result: z.array(
      z.object({
        metric: z.record(z.string(), z.string()),
        values: z.array(z.tuple([z.number(), z.string()])),
      }),
    ),
  }),
});

const ErrorResponse = z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() });

/** Prometheus' HTTP API (`/api/v1/query_range`). Invalid queries are a PrometheusQueryError; the rest retryable. */
export class PrometheusHttp implements PrometheusPort {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async queryRange(query: string, start: number, end: number, stepSeconds: number): Promise<RangeSeries[]> {
    const url = new URL('api/v1/query_range', this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    const form = new URLSearchParams({
      query,
      start: String(start),
      end: String(end),
      step: `${stepSeconds}s`,
      timeout: `${Math.max(1, Math.floor(this.timeoutMs / 1000))}s`,
    });
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        body: form,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new DependencyUnavailableError('prometheus', `query_range failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DependencyUnavailableError('prometheus', `HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    const failure = ErrorResponse.safeParse(json);
    if (failure.success) {
      // bad_data is the query's fault; timeouts, execution errors and 5xx may pass.
      const message = `${failure.data.errorType}: ${failure.data.error}`;
      if (failure.data.errorType === 'bad_data') throw new PrometheusQueryError(message);
      throw new DependencyUnavailableError('prometheus', message);
    }
    const parsed = MatrixResponse.safeParse(json);
    if (!parsed.success) {
      throw new DependencyUnavailableError('prometheus', `unexpected response (HTTP ${response.status})`);
    }
    return parsed.data.data.result.map(({ metric, values }) => ({
      labels: metric,
      points: values.map(([at, value]) => [Math.round(at), Number(value)] as [number, number]),
    }));
  }
}
