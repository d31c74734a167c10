import { KubepulseError } from '../../shared/errors.js';

/** Prometheus refused a query as invalid: retrying the same PromQL cannot help; the configuration must change. */
export class PrometheusQueryError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'prometheus-bad-query';
}
