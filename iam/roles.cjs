// Builds every function's IAM role, and the AWS-only settings that go with its
// grants, from iam/function-policies.json (see its $comment for the format).
// serverless.yml resolves it with ${file(./iam/roles.cjs):<key>}; osls calls
// the exported function, then reads <key> of what it returns:
//   resources             one AWS::IAM::Role per function, `<Function>Role`, and the
//                         AWS-only environment its grants need, deep-merged into
//                         `<Function>LambdaFunction` (serverless offline never sees it)
//   bucketPolicies        the buckets' policies: TLS only, and the uploads bucket's read gate and
//                         retag guards
//   unvalidatedReadGate   the statement of that gate denying reads of unvalidated uploads
//   retagGuards           its statements keeping the tags of an upload that carries a verdict's
//                         tag to the roles that write verdicts
//   partnerOutputs        the ARN of each role partners assume (iam/partner-readers.cjs)
// The local Ceph roles read the same file through scripts/function-policies.ts.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${…} here are CloudFormation Fn::Sub placeholders.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const {
  parsePartnerReaders,
  partnerBucketStatements,
  partnerRoleName,
  partnerRolePolicy,
  partnerTrustPolicy,
} = require('./partner-readers.cjs');

const malwareScan = require('./malware-scan.cjs');

const POLICY_FILE = join(__dirname, 'function-policies.json');
const FLAGS = [
  'ownerSecret',
  'shareSecret',
  'verdictSigningKey',
  'deadLetterQueue',
  'consumesUploadEvents',
  'readsUnvalidated',
  'invokedByBucket',
  'deliversWebhooks',
  'sendsWebhooks',
  'invokesValidator',
];
/** What a statement may hold besides the IAM fields it passes on as they are. */
const AWS_ONLY_CONDITION = 'ConditionInAws';
/** The bucket policy gives each exempt role a negated operator of its own (Ceph RGW needs it). */
const EXEMPTION_OPERATORS = ['StringNotLike', 'StringNotLikeIfExists'];
/** Where the uploads bucket's server access logs land in the access log bucket. */
const ACCESS_LOG_PREFIX = 'uploads-bucket/';
/** The validator's tag: an upload that carries it has landed, and its verdict (or pending) is in it. */
const VERDICT_TAG = 'validation-status';
/** Every way to change or remove an object's tags. */
const TAG_WRITES = [
  's3:PutObjectTagging',
  's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging',
  's3:DeleteObjectVersionTagging',
];

const LAMBDA_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** `createUpload` → `CreateUpload`, as osls names the function's resources. */
const logicalName = (fn) => fn.charAt(0).toUpperCase() + fn.slice(1);

/** The file's entries, checked: a typo must fail the package, not grant less (or more) than meant. */
function readDeclarations(text) {
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
        for (const statement of value) {
          const actions = Array.isArray(statement?.Action) ? statement.Action : [];
          if (actions.length === 0 || !actions.every((action) => /^s3:[A-Za-z]+$/.test(action))) {
            throw new Error(`${where}.s3: ${statement?.Sid ?? 'a statement'} must list S3 actions only`);
          }
          if (!Array.isArray(statement.Resource) || statement.Resource.length === 0) {
            throw new Error(`${where}.s3: ${statement.Sid ?? 'a statement'} must list its resources`);
          }
        }
      } else if (FLAGS.includes(key)) {
        if (typeof value !== 'boolean') throw new Error(`${where}.${key}: expected true or false`);
      } else throw new Error(`${where}: unknown key ${key} (expected s3, ${FLAGS.join(', ')})`);
    }
    declarations[fn] = {
      s3: entry.s3 ?? [],
      ...Object.fromEntries(FLAGS.map((flag) => [flag, !!entry[flag]])),
    };
  }
  return declarations;
}

/** Read one SecureString parameter, and decrypt it through SSM only: the grants of a secret. */
function secretStatements(sid, parameterName) {
  const parameterArn = {
    'Fn::Sub': [
      'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}',
      { Name: parameterName },
    ],
  };
  return [
    { Sid: `Read${sid}`, Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: parameterArn },
    {
      Sid: `Decrypt${sid}ThroughSsm`,
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' },
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' },
          'kms:EncryptionContext:PARAMETER_ARN': parameterArn,
        },
      },
    },
  ];
}

/** The webhook deliverer: the one function whose entry says deliversWebhooks. */
function webhookDeliverer(declarations) {
  const deliverers = Object.keys(declarations).filter((fn) => declarations[fn].deliversWebhooks);
  if (deliverers.length > 1) {
    throw new Error(
      `iam/function-policies.json: one function delivers webhooks, not ${deliverers.join(', ')}`,
    );
  }
  const senders = Object.keys(declarations).filter((fn) => declarations[fn].sendsWebhooks);
  if (senders.length > 0 && deliverers.length === 0) {
    throw new Error(
      `iam/function-policies.json: ${senders.join(', ')} sends webhooks, but no function delivers them`,
    );
  }
  return deliverers[0];
}

/** The validator: the function whose entry says verdictSigningKey, the only one that may write verdicts. */
function verdictSigner(declarations) {
  const signers = Object.keys(declarations).filter((fn) => declarations[fn].verdictSigningKey);
  if (signers.length > 1) {
    throw new Error(`iam/function-policies.json: one function signs verdicts, not ${signers.join(', ')}`);
  }
  return signers[0];
}

/** The deliverer's name as osls names it (`<service>-<stage>-<fn>`): a Ref would tie the validator to it. */
const delivererName = (settings, fn) => `${settings.service}-${settings.stage}-${fn}`;

/** The validator's name, as osls names it: the function whose entry says verdictSigningKey. */
const validatorName = (settings, declarations) => {
  const validator = verdictSigner(declarations);
  if (!validator)
    throw new Error('iam/function-policies.json: a function invokes the validator, but none signs verdicts');
  return `${settings.service}-${settings.stage}-${validator}`;
};

function roleStatements(fn, declaration, settings, deliverer) {
  const webhooks = Boolean(settings.webhookUrl);
  // The notification target cannot refer to the bucket: the bucket refers to it.
  const buckets = {
    UploadsBucket: declaration.invokedByBucket ? settings.bucketName : { Ref: 'UploadsBucket' },
    StateBucket: { Ref: 'StateBucket' },
  };
  return [
    {
      Sid: 'WriteOwnLogGroup',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${${logicalName(fn)}LogGroup}:*`,
      },
    },
    ...declaration.s3.map(({ [AWS_ONLY_CONDITION]: awsCondition, ...statement }) => ({
      ...statement,
      ...(awsCondition ? { Condition: { ...statement.Condition, ...awsCondition } } : {}),
      Resource: statement.Resource.map((arn) => ({ 'Fn::Sub': [arn, buckets] })),
    })),
    ...(declaration.ownerSecret ? secretStatements('OwnerSecret', settings.ownerSecretParameter) : []),
    ...(declaration.shareSecret ? secretStatements('ShareSecret', settings.shareSecretParameter) : []),
    ...(declaration.verdictSigningKey
      ? secretStatements('VerdictSigningKey', settings.verdictSigningKeyParameter)
      : []),
    ...(declaration.deadLetterQueue
      ? [
          {
            Sid: 'SendFailedEventsToDlq',
            Effect: 'Allow',
            Action: ['sqs:SendMessage'],
            Resource: { 'Fn::GetAtt': ['UploadValidationDlq', 'Arn'] },
          },
        ]
      : []),
    ...(declaration.consumesUploadEvents
      ? [
          {
            Sid: 'ReceiveUploadEvents',
            Effect: 'Allow',
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
            Resource: { 'Fn::GetAtt': ['UploadEventsQueue', 'Arn'] },
          },
        ]
      : []),
    ...(declaration.deliversWebhooks
      ? [
          ...(webhooks ? secretStatements('WebhookSecret', settings.webhookSecretParameter) : []),
          {
            Sid: 'SendUndeliveredWebhooksToDlq',
            Effect: 'Allow',
            Action: ['sqs:SendMessage'],
            Resource: { 'Fn::GetAtt': ['WebhookDeadLetterQueue', 'Arn'] },
          },
        ]
      : []),
    ...(declaration.invokesValidator
      ? [
          {
            Sid: 'HandPendingUploadsToTheValidator',
            Effect: 'Allow',
            Action: ['lambda:InvokeFunction'],
            Resource: {
              'Fn::Sub': [
                'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Name}',
                { Name: settings.validatorName },
              ],
            },
          },
        ]
      : []),
    ...(declaration.sendsWebhooks && webhooks
      ? [
          {
            Sid: 'HandWebhooksToTheDeliverer',
            Effect: 'Allow',
            Action: ['lambda:InvokeFunction'],
            Resource: {
              'Fn::Sub': [
                'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Name}',
                { Name: delivererName(settings, deliverer) },
              ],
            },
          },
        ]
      : []),
  ];
}

/**
 * Everything serverless.yml takes from the file, for `settings` ({ bucketName,
 * ownerSecretParameter, shareSecretParameter, verdictSigningKeyParameter,
 * webhookUrl, webhookSecretParameter }, the stage's params; service and stage,
 * which name the deliverer; and partnerReaders, the entries parsePartnerReaders
 * made of its param). An empty webhookUrl grants and names nothing of webhooks
 * but the deliverer's own queue: the validator invokes nothing.
 */
function build(declarations, settings) {
  const entries = Object.entries(declarations);
  const deliverer = webhookDeliverer(declarations);
  const webhooks = Boolean(settings.webhookUrl);
  const invokesValidator = entries.some(([, declaration]) => declaration.invokesValidator);
  const withValidator = invokesValidator
    ? { ...settings, validatorName: validatorName(settings, declarations) }
    : settings;
  const roles = Object.fromEntries(
    entries.map(([fn, declaration]) => [
      `${logicalName(fn)}Role`,
      {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: LAMBDA_TRUST,
          Policies: [
            {
              PolicyName: fn,
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: roleStatements(fn, declaration, withValidator, deliverer),
              },
            },
          ],
        },
      },
    ]),
  );

  // The names the grants are about: the secrets' parameters; the bucket, for
  // the function the bucket's notification refers to (a Ref back would be a cycle).
  const functionSettings = {};
  for (const [fn, declaration] of entries) {
    const variables = {
      ...(declaration.invokedByBucket ? { UPLOADS_BUCKET: settings.bucketName } : {}),
      ...(declaration.ownerSecret ? { OWNER_SECRET_PARAMETER: settings.ownerSecretParameter } : {}),
      ...(declaration.shareSecret ? { SHARE_SECRET_PARAMETER: settings.shareSecretParameter } : {}),
      ...(declaration.verdictSigningKey
        ? { VERDICT_SIGNING_KEY_PARAMETER: settings.verdictSigningKeyParameter }
        : {}),
      ...(declaration.deliversWebhooks && webhooks
        ? { WEBHOOK_URL: settings.webhookUrl, WEBHOOK_SECRET_PARAMETER: settings.webhookSecretParameter }
        : {}),
      ...(declaration.sendsWebhooks && webhooks
        ? { WEBHOOK_DELIVERER_FUNCTION: delivererName(settings, deliverer) }
        : {}),
      ...(declaration.invokesValidator ? { VALIDATOR_FUNCTION: withValidator.validatorName } : {}),
    };
    if (Object.keys(variables).length === 0) continue;
    functionSettings[`${logicalName(fn)}LambdaFunction`] = {
      Type: 'AWS::Lambda::Function',
      Properties: { Environment: { Variables: variables } },
    };
  }

  const exempt = entries.filter(([, declaration]) => declaration.readsUnvalidated).map(([fn]) => fn);
  if (exempt.length > EXEMPTION_OPERATORS.length) {
    throw new Error(`iam/function-policies.json: at most two functions may read unvalidated uploads`);
  }
  const malware = malwareScan.build({ malwareScan: settings.malwareScan, bucketName: settings.bucketName });
  const readExemptions = Object.fromEntries(
    exempt.map((fn, index) => [
      EXEMPTION_OPERATORS[index],
      {
        'aws:userid': {
          'Fn::Join': ['', [{ 'Fn::GetAtt': [`${logicalName(fn)}Role`, 'RoleId'] }, ':*']],
        },
      },
    ]),
  );
  const unvalidatedReadGate = {
    Sid: 'DenyReadingUnvalidatedUploads',
    Effect: 'Deny',
    Principal: '*',
    Action: ['s3:GetObject', 's3:GetObjectVersion'],
    Resource: { 'Fn::Sub': '${UploadsBucket.Arn}/uploads/*' },
    Condition: {
      StringNotEquals: { 's3:ExistingObjectTag/validation-status': 'passed' },
      ...readExemptions,
      // GuardDuty reads versions before the validator judged them (with malwareScan: guardduty).
      ...(malware.guardDutyRoleArn ? { ArnNotEquals: { 'aws:PrincipalArn': malware.guardDutyRoleArn } } : {}),
    },
  };
  // The malware gate exempts the same roles as the validation gate (its own exemption of GuardDuty kept).
  const malwareStatements = malware.gateStatements.map((statement) =>
    statement.Sid === 'DenyReadingUnscannedUploads'
      ? { ...statement, Condition: { ...statement.Condition, ...readExemptions } }
      : statement,
  );
  // Once an upload carries a verdict's tag (the validator's, pending included, or GuardDuty's), only
  // the roles that write verdicts may change or remove its tags: a tag set written over it would wipe
  // a verdict and shut a passed file, whoever's rights allowed the write. A create of a new key is
  // not caught: no tags exist yet. StringLike '*' says the tag is there (Ceph RGW's Null operator
  // ignores its value); one statement per tag, as a condition cannot say "either".
  const signer = verdictSigner(declarations);
  const verdictWriters = [
    ...(signer ? [{ 'Fn::GetAtt': [`${logicalName(signer)}Role`, 'Arn'] }] : []),
    ...(malware.guardDutyRoleArn ? [malware.guardDutyRoleArn] : []),
  ];
  const retagGuard = (Sid, tag) => ({
    Sid,
    Effect: 'Deny',
    Principal: '*',
    Action: TAG_WRITES,
    Resource: { 'Fn::Sub': '${UploadsBucket.Arn}/uploads/*' },
    Condition: {
      StringLike: { [`s3:ExistingObjectTag/${tag}`]: '*' },
      ...(verdictWriters.length > 0 ? { ArnNotEquals: { 'aws:PrincipalArn': verdictWriters } } : {}),
    },
  });
  const retagGuards = [
    retagGuard('OnlyVerdictWritersRetagUploads', VERDICT_TAG),
    ...(malware.guardDutyRoleArn
      ? [retagGuard('OnlyVerdictWritersRetagScannedUploads', malwareScan.SCAN_TAG)]
      : []),
  ];

  const tlsOnly = (bucket) => ({
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [{ 'Fn::GetAtt': [bucket, 'Arn'] }, { 'Fn::Sub': `\${${bucket}.Arn}/*` }],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  });
  const bucketPolicy = (bucket, statements) => ({
    Type: 'AWS::S3::BucketPolicy',
    Properties: { Bucket: { Ref: bucket }, PolicyDocument: { Version: '2012-10-17', Statement: statements } },
  });
  // Partners read under the read gate (never exempt): by their own principal named here, or
  // through a role of this account (below) that holds the same statements.
  const partners = settings.partnerReaders ?? [];
  const uploadsArn = (suffix) => ({ 'Fn::Sub': `\${UploadsBucket.Arn}${suffix}` });
  // S3 server access logs of the uploads bucket (every partner read among them): only S3's log
  // delivery for this bucket in this account may write them.
  const logDelivery = {
    Sid: 'AllowUploadsAccessLogDelivery',
    Effect: 'Allow',
    Principal: { Service: 'logging.s3.amazonaws.com' },
    Action: 's3:PutObject',
    Resource: { 'Fn::Sub': `\${AccessLogBucket.Arn}/${ACCESS_LOG_PREFIX}*` },
    Condition: {
      ArnLike: {
        'aws:SourceArn': { 'Fn::Sub': ['arn:${AWS::Partition}:s3:::${Name}', { Name: settings.bucketName }] },
      },
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    },
  };
  const bucketPolicies = {
    UploadsBucketPolicy: bucketPolicy('UploadsBucket', [
      tlsOnly('UploadsBucket'),
      unvalidatedReadGate,
      ...malwareStatements,
      ...retagGuards,
      ...partnerBucketStatements(partners, uploadsArn),
    ]),
    StateBucketPolicy: bucketPolicy('StateBucket', [tlsOnly('StateBucket')]),
    AccessLogBucketPolicy: bucketPolicy('AccessLogBucket', [tlsOnly('AccessLogBucket'), logDelivery]),
  };

  const partnerRoles = Object.fromEntries(
    partners
      .filter((entry) => entry.role)
      .map((entry) => [
        partnerRoleName(entry),
        {
          Type: 'AWS::IAM::Role',
          Properties: {
            Description: `Read passed uploads under ${entry.prefix} for ${entry.principalArn}`,
            AssumeRolePolicyDocument: partnerTrustPolicy(entry),
            MaxSessionDuration: 3600,
            Policies: [
              { PolicyName: 'read-passed-uploads', PolicyDocument: partnerRolePolicy(entry, uploadsArn) },
            ],
          },
        },
      ]),
  );
  const partnerOutputs = Object.fromEntries(
    Object.keys(partnerRoles).map((name) => [
      `${name}Arn`,
      {
        Description: 'The role a partner assumes to read passed uploads',
        Value: { 'Fn::GetAtt': [name, 'Arn'] },
      },
    ]),
  );

  return {
    resources: { ...roles, ...functionSettings, ...partnerRoles },
    unvalidatedReadGate,
    retagGuards,
    bucketPolicies,
    partnerOutputs,
  };
}

/** Every function of serverless.yml has an entry, and uses the role built from it; no entry is left over. */
function checkFunctions(declarations, functions) {
  const declared = Object.keys(declarations);
  const defined = Object.keys(functions ?? {});
  const missing = defined.filter((fn) => !declared.includes(fn));
  const extra = declared.filter((fn) => !defined.includes(fn));
  if (missing.length > 0)
    throw new Error(`iam/function-policies.json has no entry for ${missing.join(', ')}`);
  if (extra.length > 0) throw new Error(`iam/function-policies.json declares unknown ${extra.join(', ')}`);
  for (const fn of defined) {
    const role = functions[fn]?.role;
    if (role !== `${logicalName(fn)}Role`) {
      throw new Error(
        `function ${fn} must use role ${logicalName(fn)}Role (built from its entry), not ${role}`,
      );
    }
  }
}

module.exports = async ({ resolveVariable, resolveConfigurationProperty }) => {
  const declarations = readDeclarations(readFileSync(POLICY_FILE, 'utf8'));
  checkFunctions(declarations, await resolveConfigurationProperty(['functions']));
  return build(declarations, {
    bucketName: await resolveVariable('param:bucketName'),
    ownerSecretParameter: await resolveVariable('param:ownerSecretParameter'),
    shareSecretParameter: await resolveVariable('param:shareSecretParameter'),
    verdictSigningKeyParameter: await resolveVariable('param:verdictSigningKeyParameter'),
    webhookUrl: await resolveVariable('param:webhookUrl'),
    webhookSecretParameter: await resolveVariable('param:webhookSecretParameter'),
    service: await resolveVariable('self:service'),
    stage: await resolveVariable('sls:stage'),
    partnerReaders: parsePartnerReaders(await resolveVariable('param:partnerReaders')),
    malwareScan: await resolveVariable('param:malwareScan'),
  });
};
module.exports.readDeclarations = readDeclarations;
module.exports.build = build;
module.exports.checkFunctions = checkFunctions;
