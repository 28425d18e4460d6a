import { getParameter } from '@aws-lambda-powertools/parameters/ssm';

/** Reads a SecureString parameter's decrypted value. */
export type ParameterReader = (name: string) => Promise<string | undefined>;

/**
 * Powertools Parameters: the decrypted value of a SecureString, read once per
 * cold start. Imported statically: a bundled dynamic import would keep the
 * whole SSM client (every command's schema and error, 168 KiB) where a static
 * one keeps what `getParameter` uses (78 KiB), and in AWS every API function
 * runs it at cold start anyway.
 */
export const readSecureString: ParameterReader = (name) => getParameter(name, { decrypt: true });

/** Where one secret of a function's configuration comes from. */
export interface SecretSource {
  /** The variable holding the secret itself (the local stack, tests). */
  variable: string;
  value: string | undefined;
  /** The variable naming the SSM SecureString that holds it (AWS). */
  parameterVariable: string;
  parameter: string | undefined;
  /** Shortest value accepted. */
  minLength: number;
}

/**
 * Resolves a secret at cold start: the value given in the environment when
 * set (it takes precedence), else the SSM SecureString the parameter variable
 * names, else `undefined` (this function is not configured with it). Throws an
 * error naming the variable when the parameter cannot be read or its value is
 * too short; never puts the secret in an error or a log.
 */
export async function resolveSecret(
  source: SecretSource,
  readParameter: ParameterReader,
): Promise<string | undefined> {
  if (source.value) return source.value;
  const name = source.parameter;
  if (!name) return undefined;
  let secret: string | undefined;
  try {
    secret = await readParameter(name);
  } catch (error) {
    const reason = error instanceof Error ? error.name : 'unknown error';
    throw new Error(
      `invalid configuration: ${source.parameterVariable} ${name} could not be read from SSM (${reason})`,
      { cause: error },
    );
  }
  if (!secret || secret.length < source.minLength) {
    throw new Error(
      `invalid configuration: ${source.parameterVariable} ${name} must hold at least ${source.minLength} characters`,
    );
  }
  return secret;
}
