// Builds every function's IAM role, and the AWS-only settings that go with its
// grants, from its declaration: its entry in iam/function-policies.json and the
// statements of iam/statements.json it names (iam/function-declarations.cjs
// reads both; see their $comment for the format).
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
// The local Ceph roles hold the same S3 statements (scripts/provision.ts).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${…} here are CloudFormation Fn::Sub placeholders.
const {
  functionDeclarations,
  readDeclarations,
  SECRETS,
  WEBHOOK_SECRET,
  webhookDeliverer,
  verdictSigner,
  flagEnvironment,
} = require('./function-declarations.cjs');
const {
  parsePartnerReaders,
  partnerBucketStatements,
  partnerRoleName,
  partnerRolePolicy,
  partnerTrustPolicy,
} = require('./partner-readers.cjs');

const malwareScan = require('./malware-scan.cjs');
const { readGate, retagGuard, roleExemptions, SCAN_TAG, VALIDATION_TAG } = require('./read-gate.cjs');

/** What a statement may hold besides the IAM fields it passes on as they are. */
const AWS_ONLY_CONDITION = 'ConditionInAws';
/** Where the uploads bucket's server access logs land in the access log bucket. */
const ACCESS_LOG_PREFIX = 'uploads-bucket/';

const LAMBDA_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** `createUpload` → `CreateUpload`, as osls names the function's resources. */
const logicalName = (fn) => fn.charAt(0).toUpperCase() + fn.slice(1);

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

/** A function's name as osls names it (`<service>-<stage>-<fn>`): a Ref would tie its invoker to it. */
const functionName = (settings, fn) => `${settings.service}-${settings.stage}-${fn}`;

/** The lambda:InvokeFunction grant of one function, by its name. */
const invokeStatement = (sid, name) => ({
  Sid: sid,
  Effect: 'Allow',
  Action: ['lambda:InvokeFunction'],
  Resource: {
    'Fn::Sub': [
      'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Name}',
      { Name: name },
    ],
  },
});

/** The validator, for the functions that hand files to it: the one that signs verdicts. */
function validatorOf(declarations) {
  const invokers = Object.keys(declarations).filter((fn) => declarations[fn].invokesValidator);
  const validator = verdictSigner(declarations);
  if (invokers.length > 0 && !validator) {
    throw new Error(
      `iam/function-policies.json: ${invokers.join(', ')} invokes the validator, but no function signs verdicts`,
    );
  }
  return validator;
}

function roleStatements(fn, declaration, settings, { deliverer, validator }) {
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
    ...Object.entries(SECRETS)
      .filter(([flag]) => declaration[flag])
      .flatMap(([, secret]) => secretStatements(secret.sid, settings[secret.param])),
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
          ...(webhooks ? secretStatements(WEBHOOK_SECRET.sid, settings[WEBHOOK_SECRET.param]) : []),
          {
            Sid: 'SendUndeliveredWebhooksToDlq',
            Effect: 'Allow',
            Action: ['sqs:SendMessage'],
            Resource: { 'Fn::GetAtt': ['WebhookDeadLetterQueue', 'Arn'] },
          },
        ]
      : []),
    ...(declaration.sendsWebhooks && webhooks
      ? [invokeStatement('HandWebhooksToTheDeliverer', functionName(settings, deliverer))]
      : []),
    ...(declaration.invokesValidator
      ? [invokeStatement('HandPendingUploadsToTheValidator', functionName(settings, validator))]
      : []),
  ];
}

/**
 * Everything serverless.yml takes from the file, for `settings` ({ bucketName,
 * ownerSecretParameter, shareSecretParameter, verdictSigningKeyParameter,
 * webhookUrl, webhookSecretParameter }, the stage's params; service and stage,
 * which name the deliverer and the validator; and partnerReaders, the entries parsePartnerReaders
 * made of its param). An empty webhookUrl grants and names nothing of webhooks
 * but the deliverer's own queue: the validator invokes nothing.
 */
function build(declarations, settings) {
  const entries = Object.entries(declarations);
  const deliverer = webhookDeliverer(declarations);
  const validator = validatorOf(declarations);
  const webhooks = Boolean(settings.webhookUrl);
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
                Statement: roleStatements(fn, declaration, settings, { deliverer, validator }),
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
      ...flagEnvironment(declaration, {
        secret: (secret) => ({ [secret.parameterVariable]: settings[secret.param] }),
        webhooks: webhooks
          ? { url: settings.webhookUrl, deliverer: functionName(settings, deliverer) }
          : undefined,
        validator: validator ? { name: functionName(settings, validator) } : undefined,
      }),
    };
    if (Object.keys(variables).length === 0) continue;
    functionSettings[`${logicalName(fn)}LambdaFunction`] = {
      Type: 'AWS::Lambda::Function',
      Properties: { Environment: { Variables: variables } },
    };
  }

  const exempt = entries.filter(([, declaration]) => declaration.readsUnvalidated).map(([fn]) => fn);
  const malware = malwareScan.build({ malwareScan: settings.malwareScan, bucketName: settings.bucketName });
  const uploads = { 'Fn::Sub': '${UploadsBucket.Arn}/uploads/*' };
  const readExemptions = roleExemptions(
    exempt.map((fn) => ({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [`${logicalName(fn)}Role`, 'RoleId'] }, ':*']],
    })),
  );
  const [unvalidatedReadGate] = readGate(uploads, VALIDATION_TAG, {
    ...readExemptions,
    // GuardDuty reads versions before the validator judged them (with malwareScan: guardduty).
    ...(malware.guardDutyRoleArn ? { ArnNotEquals: { 'aws:PrincipalArn': malware.guardDutyRoleArn } } : {}),
  });
  // The malware gate exempts the same roles as the validation gate (its own exemption of GuardDuty kept).
  const malwareStatements = malware.gateStatements.map((statement) =>
    statement.Sid === SCAN_TAG.sids[0]
      ? { ...statement, Condition: { ...statement.Condition, ...readExemptions } }
      : statement,
  );
  // Only the roles that write verdicts (the validator's, and GuardDuty's) may retag an upload that
  // carries a verdict's tag, whoever's rights allowed the write; one statement per tag, as a
  // condition cannot say "either".
  const signer = verdictSigner(declarations);
  const verdictWriters = [
    ...(signer ? [{ 'Fn::GetAtt': [`${logicalName(signer)}Role`, 'Arn'] }] : []),
    ...(malware.guardDutyRoleArn ? [malware.guardDutyRoleArn] : []),
  ];
  const writersOnly =
    verdictWriters.length > 0 ? { ArnNotEquals: { 'aws:PrincipalArn': verdictWriters } } : {};
  const retagGuards = [
    retagGuard(uploads, VALIDATION_TAG, writersOnly),
    ...(malware.guardDutyRoleArn ? [retagGuard(uploads, SCAN_TAG, writersOnly)] : []),
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
  const declarations = functionDeclarations();
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
