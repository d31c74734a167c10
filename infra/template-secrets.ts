/**
 * Checks a packaged CloudFormation template for secrets that would be readable by anyone with read-only AWS
 * access: a secret setting given as a function environment value, a Redis URL with credentials, a `*_SECRET`
 * reference that is not one, or any string in the template that looks like a credential.
 *   node --import tsx infra/template-secrets.ts .serverless/cloudformation-template-update-stack.json
 * Prints one line per finding (never the value itself) and exits 1 if there is any.
 */
import { readFileSync } from 'node:fs';
import { APPROVER_SECRETS } from '../functions/approver/config.js';
import { NOTIFIER_SECRETS } from '../functions/notifier/config.js';
import { PLANNER_SECRETS } from '../functions/planner/config.js';
import { createRedactor } from '../functions/shared/redaction/redact.js';
import {
  parseSecretRef,
  redisUrlWithoutCredentials,
  type SecretSetting,
} from '../functions/shared/secrets.js';

const settingName = (setting: SecretSetting) => (typeof setting === 'string' ? setting : setting.name);
const ALWAYS_SECRET = new Set(
  [...PLANNER_SECRETS, ...NOTIFIER_SECRETS, ...APPROVER_SECRETS]
    .filter((s) => typeof s === 'string')
    .map(settingName),
);

/** Shapes of credentials that have no business in a template, whatever key they sit under. */
const CREDENTIAL_SHAPES: [string, RegExp][] = [
  ['PEM private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['Ed25519 PKCS#8 key (base64)', /MC4CAQAwBQYDK2Vw[A-Za-z0-9+/=]{20,}/],
  ['AWS access key id', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['Slack webhook URL', /hooks\.slack\.com\/services\/[A-Za-z0-9/]+/],
  ['Slack token', /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ['URL with a password', /[a-z][a-z0-9+.-]*:\/\/[^\s/:@"]*:[^\s/@"]+@/i],
];

export interface Finding {
  where: string;
  problem: string;
}

interface Template {
  Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
}

export function findTemplateSecrets(template: Template): Finding[] {
  const findings: Finding[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables = ((resource.Properties?.Environment as { Variables?: Record<string, unknown> })
      ?.Variables ?? {}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(variables)) {
      const where = `${logicalId}.Environment.${name}`;
      if (ALWAYS_SECRET.has(name) && value !== '') {
        findings.push({
          where,
          problem: `a secret as a value; give ${name}_SECRET (where it lives) instead`,
        });
      }
      if (
        name === 'REDIS_URL' &&
        typeof value === 'string' &&
        value !== '' &&
        !redisUrlWithoutCredentials(value)
      ) {
        findings.push({ where, problem: 'a Redis URL with credentials; give REDIS_URL_SECRET instead' });
      }
      if (name.endsWith('_SECRET') && typeof value === 'string' && value !== '') {
        try {
          parseSecretRef(value);
        } catch {
          findings.push({ where, problem: 'not a reference to a secret (a value?)' });
        }
      }
    }
  }
  const text = JSON.stringify(template);
  for (const [shape, pattern] of CREDENTIAL_SHAPES) {
    if (pattern.test(text))
      findings.push({ where: 'template', problem: `holds something shaped like a ${shape}` });
  }
  // The same redaction that guards prompts and alerts (its corpus: test/redteam/redaction.test.ts), on every string.
  const redactor = createRedactor();
  const visit = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      if (redactor.redact(value).count > 0)
        findings.push({ where, problem: 'holds what redaction takes for a secret' });
    } else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) visit(item, `${where}[${index}]`);
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, `${where}.${key}`);
    }
  };
  visit(template.Resources ?? {}, 'Resources');
  return findings;
}

if (process.argv[1]?.endsWith('template-secrets.ts')) {
  const path = process.argv[2];
  if (!path) {
    console.error('usage: template-secrets.ts <cloudformation template json>');
    process.exit(2);
  }
  const findings = findTemplateSecrets(JSON.parse(readFileSync(path, 'utf8')) as Template);
  for (const finding of findings) console.log(`template secrets: ${finding.where}: ${finding.problem}`);
  console.log(`template secrets: ${findings.length === 0 ? 'none found' : `${findings.length} finding(s)`}`);
  process.exitCode = findings.length === 0 ? 0 : 1;
}
