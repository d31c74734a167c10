// Local stand-in for AWS Secrets Manager and SSM Parameter Store, speaking their real wire protocol (AWS JSON 1.1:
// POST /, `X-Amz-Target: secretsmanager.<Op>` or `AmazonSSM.<Op>`, SigV4-signed), so the functions' real client
// path (Powertools Parameters over the AWS SDK) runs locally and in tests. Only what kubepulse uses:
//   Secrets Manager: CreateSecret, PutSecretValue, GetSecretValue
//   SSM:             PutParameter, GetParameter (SecureString values come back decrypted only WithDecryption)
// Point a client at it with AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_SSM (region us-east-1, any
// credentials).
//   const store = await startSecretsStandIn({ port: 0 }); store.putSecret('kubepulse/x', 'v'); … await store.close();
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const STANDIN_ACCOUNT_ID = '123456789012';
export const STANDIN_REGION = 'us-east-1';

interface StoredSecret {
  arn: string;
  name: string;
  value: string;
  versionId: string;
}

interface StoredParameter {
  arn: string;
  name: string;
  type: 'String' | 'SecureString';
  value: string;
  version: number;
}

export interface SecretsStandIn {
  /** http://127.0.0.1:<port>, for both AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_SSM. */
  url: string;
  /** Creates or replaces a secret; returns its ARN. */
  putSecret(name: string, value: string): string;
  /** Creates or replaces a parameter; returns its ARN. */
  putParameter(name: string, value: string, type?: 'String' | 'SecureString'): string;
  /** How many reads each secret or parameter name has had (a cold start reads once; a warm one never). */
  reads: Map<string, number>;
  /** Answer the next `count` requests with a throttling error (a store outage, for fault tests). */
  throttleNext(count: number): void;
  close(): Promise<void>;
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
  res.end(JSON.stringify(body));
}

export async function startSecretsStandIn(
  options: { port?: number; host?: string } = {},
): Promise<SecretsStandIn> {
  const secrets = new Map<string, StoredSecret>();
  const parameters = new Map<string, StoredParameter>();
  const reads = new Map<string, number>();
  let throttled = 0;
  const host = options.host ?? '127.0.0.1';

  const secretArn = (name: string) =>
    `arn:aws:secretsmanager:${STANDIN_REGION}:${STANDIN_ACCOUNT_ID}:secret:${name}-${randomUUID().slice(0, 6)}`;
  const parameterArn = (name: string) =>
    `arn:aws:ssm:${STANDIN_REGION}:${STANDIN_ACCOUNT_ID}:parameter${name.startsWith('/') ? '' : '/'}${name}`;

  const putSecret = (name: string, value: string): string => {
    const existing = secrets.get(name);
    const stored = { arn: existing?.arn ?? secretArn(name), name, value, versionId: randomUUID() };
    secrets.set(name, stored);
    return stored.arn;
  };
  const putParameter = (name: string, value: string, type: 'String' | 'SecureString' = 'SecureString') => {
    const existing = parameters.get(name);
    const stored = { arn: parameterArn(name), name, type, value, version: (existing?.version ?? 0) + 1 };
    parameters.set(name, stored);
    return stored.arn;
  };
  // Secrets Manager accepts the name, the full ARN, or the ARN without its random suffix.
  const findSecret = (id: string) =>
    secrets.get(id) ??
    [...secrets.values()].find((s) => s.arn === id || s.arn.replace(/-[^-]{6}$/, '') === id);
  const findParameter = (id: string) =>
    parameters.get(id) ?? [...parameters.values()].find((p) => p.arn === id);
  const countRead = (name: string) => reads.set(name, (reads.get(name) ?? 0) + 1);

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    'secretsmanager.CreateSecret': (input) => {
      const name = String(input.Name ?? '');
      if (!name) throw new AwsError('InvalidParameterException', 'Name is required');
      if (secrets.has(name))
        throw new AwsError('ResourceExistsException', `The secret ${name} already exists.`);
      const arn = putSecret(name, String(input.SecretString ?? ''));
      return { ARN: arn, Name: name, VersionId: secrets.get(name)?.versionId };
    },
    'secretsmanager.PutSecretValue': (input) => {
      const found = findSecret(String(input.SecretId ?? ''));
      if (!found)
        throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      putSecret(found.name, String(input.SecretString ?? ''));
      return { ARN: found.arn, Name: found.name, VersionId: secrets.get(found.name)?.versionId };
    },
    'secretsmanager.GetSecretValue': (input) => {
      const found = findSecret(String(input.SecretId ?? ''));
      if (!found)
        throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      countRead(found.name);
      return {
        ARN: found.arn,
        Name: found.name,
        SecretString: found.value,
        VersionId: found.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      };
    },
    'AmazonSSM.PutParameter': (input) => {
      const name = String(input.Name ?? '');
      const type = input.Type === 'String' ? 'String' : 'SecureString';
      if (parameters.has(name) && input.Overwrite !== true) {
        throw new AwsError('ParameterAlreadyExists', 'The parameter already exists.');
      }
      putParameter(name, String(input.Value ?? ''), type);
      return { Version: parameters.get(name)?.version, Tier: 'Standard' };
    },
    'AmazonSSM.GetParameter': (input) => {
      const found = findParameter(String(input.Name ?? ''));
      if (!found) throw new AwsError('ParameterNotFound', '');
      countRead(found.name);
      // Without WithDecryption a SecureString comes back as ciphertext, as in AWS.
      const value =
        found.type === 'SecureString' && input.WithDecryption !== true
          ? Buffer.from(`kms-ciphertext:${found.version}:${found.name}`).toString('base64')
          : found.value;
      return {
        Parameter: {
          Name: found.name,
          Type: found.type,
          Value: value,
          Version: found.version,
          ARN: found.arn,
          DataType: 'text',
          LastModifiedDate: Date.now() / 1000,
        },
      };
    },
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.method !== 'POST') throw new AwsError('UnknownOperationException', 'POST only', 404);
        // Real endpoints refuse unsigned requests; so does this one (the signature itself is not checked).
        if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
          throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
        }
        const target = String(req.headers['x-amz-target'] ?? '');
        const operation = operations[target];
        if (!operation) throw new AwsError('UnknownOperationException', `unknown operation ${target}`);
        const body = await readBody(req);
        if (throttled > 0) {
          throttled -= 1;
          throw new AwsError('ThrottlingException', 'Rate exceeded', 400);
        }
        send(res, 200, operation(body ? (JSON.parse(body) as Record<string, unknown>) : {}));
      } catch (error) {
        const aws = error instanceof AwsError ? error : new AwsError('InternalFailure', String(error), 500);
        send(res, aws.status, { __type: aws.type, message: aws.message });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    putSecret,
    putParameter,
    reads,
    throttleNext(count) {
      throttled = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Moves the named secrets of an environment into the stand-in, as a deployment would keep them in Secrets Manager:
 * returns the environment with `<NAME>_SECRET=secretsmanager:<prefix>/<name>` in place of each value (and the
 * value itself blanked, so a template default cannot slip through beside it).
 */
export function storeSecretsOf(
  store: SecretsStandIn,
  prefix: string,
  env: Record<string, string>,
  names: readonly string[],
): Record<string, string> {
  const out = { ...env };
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const secretName = `${prefix}/${name.toLowerCase().replaceAll('_', '-')}`;
    store.putSecret(secretName, value);
    out[`${name}_SECRET`] = `secretsmanager:${secretName}`;
    out[name] = '';
  }
  return out;
}
