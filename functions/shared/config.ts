import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * Reads configuration from the environment once, at start-up, and reports every missing or invalid
 * variable at once rather than the first one.
 */
export function readConfig<Schema extends z.ZodType>(
  schema: Schema,
  env: Record<string, string | undefined> = process.env,
): z.infer<Schema> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** Unset or empty (a deploy parameter left blank) both mean "not configured": for z.preprocess. */
export const blankAsUnset = (value: unknown) => (value === '' ? undefined : value);

/**
 * Turns what a parser throws into a config issue, for a zod transform. The parsers it wraps (keyrings, policies)
 * name key ids in their messages, never key material.
 */
export const parsedWith =
  <T>(parse: (text: string) => T) =>
  (text: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  };

/** Helpers for environment variables, which are always strings. */
export const env = {
  url: () => z.url(),
  integer: (defaultValue: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(defaultValue),
  text: (defaultValue: string) => z.string().min(1).default(defaultValue),
  optionalUrl: () => z.url().optional(),
};

/**
 * For long-running processes (the shipper, the executor): reads the configuration or exits with status 1 and the
 * list of problems on stderr, instead of an uncaught exception's stack through a minified bundle.
 */
export function readConfigOrExit<T>(read: () => T, processName: string): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${processName}: ${error.message}\n`);
    process.exit(1);
  }
}
