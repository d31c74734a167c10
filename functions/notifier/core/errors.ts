import { KubepulseError } from '../../shared/errors.js';

/** A destination refused the alert for good (a 4xx other than 408/429): retrying cannot help, a human must look. */
export class DeliveryRejectedError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'delivery-rejected';
}

/** A destination could not be reached or was busy within this invocation; SQS delivers the record again. */
export class DeliveryFailedError extends KubepulseError {
  readonly retryable = true;
  readonly code = 'delivery-failed';
}
