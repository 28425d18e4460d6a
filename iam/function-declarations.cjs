// Every function's declared permissions, read once for AWS and for the local stack alike:
// iam/function-policies.json (one entry per function: the names of its S3 statements, and
// flags) with those names filled in from iam/statements.json, checked; and what each flag
// sets in a function's environment. iam/roles.cjs builds the AWS roles from them,
// scripts/provision.ts and scripts/offline-config.ts the local Ceph roles and settings.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const POLICY_FILE = join(__dirname, 'function-policies.json');
const STATEMENT_FILE = join(__dirname, 'statements.json');

/** The SSM SecureStrings a flag lets a function read, and how its environment names each one. */
const SECRETS = {
  ownerSecret: {
    sid: 'OwnerSecret',
    param: 'ownerSecretParameter',
    parameterVariable: 'OWNER_SECRET_PARAMETER',
    valueVariable: 'OWNER_SECRET',
  },
  shareSecret: {
    sid: 'ShareSecret',
    param: 'shareSecretParameter',
    parameterVariable: 'SHARE_SECRET_PARAMETER',
    valueVariable: 'SHARE_SECRET',
  },
  verdictSigningKey: {
    sid: 'VerdictSigningKey',
    param: 'verdictSigningKeyParameter',
    parameterVariable: 'VERDICT_SIGNING_KEY_PARAMETER',
    valueVariable: 'VERDICT_SIGNING_KEY',
  },
};

/** The webhook secret, read by the deliverer alone (deliversWebhooks) when webhooks are on. */
const WEBHOOK_SECRET = {
  sid: 'WebhookSecret',
  param: 'webhookSecretParameter',
  parameterVariable: 'WEBHOOK_SECRET_PARAMETER',
  valueVariable: 'WEBHOOK_SECRET',
};

const FLAGS = [
  ...Object.keys(SECRETS),
  'deadLetterQueue',
  'consumesUploadEvents',
  'readsUnvalidated',
  'invokedByBucket',
  'deliversWebhooks',
  'sendsWebhooks',
  'invokesValidator',
];

/** A statement of iam/statements.json (or written in an entry), checked: S3 actions, listed resources. */
function checkStatement(where, statement) {
  const name = statement?.Sid ?? 'a statement';
  const actions = Array.isArray(statement?.Action) ? statement.Action : [];
  if (actions.length === 0 || !actions.every((action) => /^s3:[A-Za-z]+$/.test(action))) {
    throw new Error(`${where}: ${name} must list S3 actions only`);
  }
  if (!Array.isArray(statement.Resource) || statement.Resource.length === 0) {
    throw new Error(`${where}: ${name} must list its resources`);
  }
  return statement;
}

/** iam/statements.json's statements by name, each with its name as its Sid. */
function readStatements(text) {
  const raw = JSON.parse(text);
  return Object.fromEntries(
    Object.entries(raw)
      .filter(([name]) => !name.startsWith('$'))
      .map(([name, statement]) => [
        name,
        checkStatement(`iam/statements.json: ${name}`, { Sid: name, ...statement }),
      ]),
  );
}

/**
 * The entries of iam/function-policies.json, checked (a typo must fail the package, not grant
 * less or more than meant), each S3 statement named in `s3` taken from `statements`: every
 * entry with its statements in full and every flag true or false. A statement written in full
 * in an entry is taken as it is (checked the same way).
 */
function readDeclarations(text, statements = readStatements(readFileSync(STATEMENT_FILE, 'utf8'))) {
  const raw = JSON.parse(text);
  const declarations = {};
  for (const [fn, entry] of Object.entries(raw)) {
    if (fn.startsWith('$')) continue;
    const where = `iam/function-policies.json: ${fn}`;
    if (!/^[a-z][A-Za-z0-9]*$/.test(fn)) throw new Error(`${where}: not a camelCase function name`);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new Error(`${where}: expected an object`);
    }
    for (const [key, value] of Object.entries(entry)) {
      if (key === 's3') {
        if (!Array.isArray(value)) throw new Error(`${where}.s3: expected a list of statements`);
      } else if (FLAGS.includes(key)) {
        if (typeof value !== 'boolean') throw new Error(`${where}.${key}: expected true or false`);
      } else throw new Error(`${where}: unknown key ${key} (expected s3, ${FLAGS.join(', ')})`);
    }
    const s3 = (entry.s3 ?? []).map((statement) => {
      if (typeof statement !== 'string') return checkStatement(`${where}.s3`, statement);
      const named = statements[statement];
      if (!named) throw new Error(`${where}.s3: no statement ${statement} in iam/statements.json`);
      return named;
    });
    declarations[fn] = { s3, ...Object.fromEntries(FLAGS.map((flag) => [flag, !!entry[flag]])) };
  }
  return declarations;
}

/** Every function's declaration, from the repository's files. */
const functionDeclarations = () => readDeclarations(readFileSync(POLICY_FILE, 'utf8'));

/** The one function whose declaration says `flag`, if any; more than one is an error. */
function onlyFunctionWith(declarations, flag, what) {
  const named = Object.keys(declarations).filter((fn) => declarations[fn][flag]);
  if (named.length > 1) {
    throw new Error(`iam/function-policies.json: one function ${what}, not ${named.join(', ')}`);
  }
  return named[0];
}

/** The webhook deliverer: the one function that says deliversWebhooks (needed once one sendsWebhooks). */
function webhookDeliverer(declarations) {
  const deliverer = onlyFunctionWith(declarations, 'deliversWebhooks', 'delivers webhooks');
  const senders = Object.keys(declarations).filter((fn) => declarations[fn].sendsWebhooks);
  if (senders.length > 0 && !deliverer) {
    throw new Error(
      `iam/function-policies.json: ${senders.join(', ')} sends webhooks, but no function delivers them`,
    );
  }
  return deliverer;
}

/** The validator: the function that says verdictSigningKey, the only one that may write verdicts. */
const verdictSigner = (declarations) => onlyFunctionWith(declarations, 'verdictSigningKey', 'signs verdicts');

/**
 * The environment a declaration's flags call for. `secret(spec)` gives each secret it reads as
 * its variable and value (in AWS the SSM parameter's name, locally the secret itself);
 * `webhooks` ({ url, deliverer, senderExtras }) is unset when webhooks are off, else the URL (and
 * secret) go to the deliverer and the deliverer's name (and `senderExtras`) to the senders;
 * `validator` ({ name, invokerExtras }) goes to the functions that hand files to the validator.
 */
function flagEnvironment(declaration, { secret, webhooks, validator }) {
  return {
    ...Object.assign(
      {},
      ...Object.entries(SECRETS)
        .filter(([flag]) => declaration[flag])
        .map(([, spec]) => secret(spec)),
    ),
    ...(declaration.deliversWebhooks && webhooks
      ? { WEBHOOK_URL: webhooks.url, ...secret(WEBHOOK_SECRET) }
      : {}),
    ...(declaration.sendsWebhooks && webhooks
      ? { WEBHOOK_DELIVERER_FUNCTION: webhooks.deliverer, ...webhooks.senderExtras }
      : {}),
    ...(declaration.invokesValidator && validator
      ? { VALIDATOR_FUNCTION: validator.name, ...validator.invokerExtras }
      : {}),
  };
}

module.exports = {
  FLAGS,
  SECRETS,
  WEBHOOK_SECRET,
  readStatements,
  readDeclarations,
  functionDeclarations,
  webhookDeliverer,
  verdictSigner,
  flagEnvironment,
};
