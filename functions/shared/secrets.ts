import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { ConfigError, DependencyUnavailableError, KubepulseError } from './errors.js';

/**
 * Secrets (the plan-signing key, the Gemini key, alert destinations' credentials) never travel as environment
 * variable values, which anyone with read-only AWS access can list (lambda:GetFunctionConfiguration). The
 * environment names where each one lives, `<NAME>_SECRET=<ref>`, and the function fetches it once at cold start
 * and keeps it for the container's life:
 *   - a Secrets Manager ARN (`arn:aws:secretsmanager:…`) or `secretsmanager:<name or ARN>`
 *   - an SSM SecureString (`arn:aws:ssm:…:parameter/<name>`) or `ssm:/<name>`, read with decryption
 */
export type SecretRef = { store: 'secretsmanager'; id: string } | { store: 'ssm'; name: string };

export function parseSecretRef(text: string): SecretRef {
  const value = text.trim();
  if (value.startsWith('arn:')) {
    const parts = value.split(':');
    const service = parts[2];
    const resource = parts.slice(5).join(':');
    if (parts.length < 6 || !resource) throw new ConfigError(`not a usable ARN: ${value}`);
    if (service === 'secretsmanager' && resource.startsWith('secret:'))
      return { store: 'secretsmanager', id: value };
    // GetParameter takes the ARN as the name (the ARN cannot tell `/a` from `a`, the store can).
    if (service === 'ssm' && resource.startsWith('parameter/')) return { store: 'ssm', name: value };
    throw new ConfigError(
      `an ARN of ${service}:${resource.split('/')[0]}, not a secret or an SSM parameter: ${value}`,
    );
  }
  const at = value.indexOf(':');
  const store = at > 0 ? value.slice(0, at) : '';
  const id = value.slice(at + 1);
  if (store === 'secretsmanager' && id) return { store, id };
  if (store === 'ssm' && id) return { store, name: id };
  throw new ConfigError(
    `secret reference "${value}" is neither an ARN nor secretsmanager:<name> nor ssm:<name> (a secret's value never goes here)`,
  );
}

export const describeSecretRef = (ref: SecretRef) =>
  ref.store === 'secretsmanager' ? `Secrets Manager ${ref.id}` : `SSM parameter ${ref.name}`;

/** Where secrets are fetched from: AWS (through Powertools Parameters) or, in tests, anything with this shape. */
export interface SecretStore {
  fetch(ref: SecretRef): Promise<string>;
}

/** The secret does not exist, is empty, is not readable by this function, or cannot be decrypted: fix the set-up. */
export class SecretNotUsableError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'secret-not-usable';
}

// Errors the stores answer with when retrying cannot help.
const PERMANENT = new Set([
  'ResourceNotFoundException',
  'ParameterNotFound',
  'ParameterVersionNotFound',
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'DecryptionFailure',
  'InvalidParameterException',
  'InvalidRequestException',
  'InvalidKeyId',
  'ValidationException',
]);

function classify(ref: SecretRef, error: unknown): KubepulseError {
  const cause = (error as { cause?: unknown })?.cause ?? error;
  const name = (cause as { name?: string })?.name ?? '';
  const message = cause instanceof Error ? cause.message : String(cause);
  if (PERMANENT.has(name)) {
    return new SecretNotUsableError(`${describeSecretRef(ref)}: ${name}: ${message}`, { cause: error });
  }
  return new DependencyUnavailableError(
    'secrets',
    `${describeSecretRef(ref)}: ${name || 'error'}: ${message}`,
    {
      cause: error,
    },
  );
}

/**
 * The AWS stores, through Powertools Parameters (its providers use the regular SDK clients, so the usual
 * credentials, region and AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_SSM apply). Clients are made on the
 * first fetch of each kind, so a function with no SSM secrets never builds an SSM client.
 */
export function awsSecretStore(): SecretStore {
  let secrets: SecretsProvider | undefined;
  let ssm: SSMProvider | undefined;
  return {
    async fetch(ref) {
      try {
        // forceFetch: the caller keeps the value for the container's life; the provider's own cache adds nothing.
        let value: string | Uint8Array | undefined;
        if (ref.store === 'secretsmanager') {
          secrets ??= new SecretsProvider();
          value = await secrets.get(ref.id, { forceFetch: true });
        } else {
          ssm ??= new SSMProvider();
          value = await ssm.get(ref.name, { decrypt: true, forceFetch: true });
        }
        if (typeof value === 'string') return value;
        if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
        throw new SecretNotUsableError(`${describeSecretRef(ref)} has no value`);
      } catch (error) {
        if (error instanceof KubepulseError) throw error;
        throw classify(ref, error);
      }
    },
  };
}

/**
 * A configuration value that may be secret: its name, and, for values that are only sometimes secret (a Redis
 * URL is one when it carries a password), which plain values are fine as they are.
 */
export type SecretSetting = string | { name: string; plainIsFine: (value: string) => boolean };

/** A Redis URL without a password in it is not a secret. */
export function redisUrlWithoutCredentials(value: string): boolean {
  try {
    const url = new URL(value);
    return url.password === '' && url.username === '';
  } catch {
    return false;
  }
}

export const REDIS_URL_SETTING: SecretSetting = {
  name: 'REDIS_URL',
  plainIsFine: redisUrlWithoutCredentials,
};

/**
 * Returns a copy of `env` with each named secret filled in from its store (`<NAME>_SECRET`), for the function's
 * config reader to parse as before. Refused, with every problem at once: a secret given both ways, a reference that
 * is not one, an empty secret, and, inside Lambda (AWS_LAMBDA_FUNCTION_NAME set), a secret given as a plain value.
 * Values never appear in errors or logs; references do.
 */
export async function resolveSecretEnv(
  env: Record<string, string | undefined>,
  settings: readonly SecretSetting[],
  store: SecretStore = awsSecretStore(),
): Promise<Record<string, string | undefined>> {
  const problems: string[] = [];
  const wanted: { name: string; ref: SecretRef }[] = [];
  const inLambda = Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
  for (const setting of settings) {
    const name = typeof setting === 'string' ? setting : setting.name;
    const plainIsFine = typeof setting === 'string' ? () => false : setting.plainIsFine;
    const refText = env[`${name}_SECRET`];
    const plain = env[name];
    if (refText && plain) {
      problems.push(`${name}: set ${name}_SECRET (where the secret lives) or ${name}, not both`);
    } else if (refText) {
      try {
        wanted.push({ name, ref: parseSecretRef(refText) });
      } catch (error) {
        problems.push(`${name}_SECRET: ${(error as Error).message}`);
      }
    } else if (plain && inLambda && !plainIsFine(plain)) {
      problems.push(
        `${name}: a secret's value may not be an environment variable of a function; store it in Secrets Manager or SSM and set ${name}_SECRET to its ARN`,
      );
    }
  }
  if (problems.length > 0)
    throw new ConfigError(`invalid secrets configuration:\n  ${problems.join('\n  ')}`);

  const resolved = { ...env };
  const results = await Promise.allSettled(wanted.map(({ ref }) => store.fetch(ref)));
  const failures: KubepulseError[] = [];
  results.forEach((result, index) => {
    const { name, ref } = wanted[index] as { name: string; ref: SecretRef };
    if (result.status === 'rejected') {
      failures.push(result.reason instanceof KubepulseError ? result.reason : classify(ref, result.reason));
    } else if (result.value.trim() === '') {
      failures.push(new SecretNotUsableError(`${name}: ${describeSecretRef(ref)} is empty`));
    } else {
      resolved[name] = result.value;
      delete resolved[`${name}_SECRET`];
    }
  });
  if (failures.length === 0) return resolved;
  // One outage makes the whole start-up retryable; otherwise the set-up is wrong and says where.
  const message = failures.map((failure) => failure.message).join('; ');
  if (failures.some((failure) => failure.retryable)) throw new DependencyUnavailableError('secrets', message);
  throw new SecretNotUsableError(message);
}
