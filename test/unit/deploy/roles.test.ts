// iam/roles.cjs, the resolver serverless.yml takes every function's role from:
// how it reads iam/function-policies.json and what it builds from an entry,
// without packaging (cloudformation.test.ts checks the packaged template).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${…} here are CloudFormation Fn::Sub placeholders.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionPolicies } from '../../../scripts/function-policies.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Declaration {
  s3: Json[];
  ownerSecret: boolean;
  shareSecret: boolean;
  verdictSigningKey: boolean;
  deadLetterQueue: boolean;
  consumesUploadEvents: boolean;
  readsUnvalidated: boolean;
  invokedByBucket: boolean;
  deliversWebhooks: boolean;
  sendsWebhooks: boolean;
}
interface Built {
  resources: Record<string, { Type: string; Properties: Record<string, Json> }>;
  unvalidatedReadGate: { Sid: string; Action: Json; Condition: Record<string, Json> };
  retagGuards: { Sid: string; Action: Json; Resource: Json; Condition: Record<string, Json> }[];
  bucketPolicies: Record<string, { Type: string; Properties: { Bucket: Json; PolicyDocument: Json } }>;
}
interface Roles {
  (context: {
    resolveVariable: (variable: string) => Promise<string>;
    resolveConfigurationProperty: (path: string[]) => Promise<unknown>;
  }): Promise<Built>;
  readDeclarations(text: string): Record<string, Declaration>;
  build(
    declarations: Record<string, Declaration>,
    settings: typeof SETTINGS & { partnerReaders?: unknown[]; malwareScan?: string },
  ): Built;
  checkFunctions(
    declarations: Record<string, Declaration>,
    functions: Record<string, { role?: string }>,
  ): void;
}

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const roles = createRequire(import.meta.url)(join(ROOT, 'iam', 'roles.cjs')) as Roles;
const SETTINGS = {
  bucketName: 'presign-test-uploads',
  ownerSecretParameter: '/presign/test/owner-secret',
  shareSecretParameter: '/presign/test/share-secret',
  verdictSigningKeyParameter: '/presign/test/verdict-signing-key',
  webhookUrl: '',
  webhookSecretParameter: '/presign/test/webhook-secret',
  service: 'presign',
  stage: 'test',
};
/** The stage's settings with webhooks on (param webhookUrl). */
const WITH_WEBHOOKS = { ...SETTINGS, webhookUrl: 'https://hooks.example.com/presign' };
/** What every role's Fn::Sub fills its S3 placeholders with (the notification target: the uploads bucket by name). */
const BUCKET_REFS = { UploadsBucket: { Ref: 'UploadsBucket' }, StateBucket: { Ref: 'StateBucket' } };
const S3_READ = {
  Sid: 'ReadUploads',
  Effect: 'Allow',
  Action: ['s3:GetObject'],
  Resource: ['arn:${AWS::Partition}:s3:::${UploadsBucket}/uploads/*'],
};

const declare = (entries: Record<string, Json>) => roles.readDeclarations(JSON.stringify(entries));
const statementsOf = (built: Built, role: string) => {
  const policies = (built.resources[role]?.Properties.Policies ?? []) as {
    PolicyDocument: { Statement: Json[] };
  }[];
  const [policy] = policies;
  return policy?.PolicyDocument.Statement as { Sid: string; Resource: Json; Condition?: Json }[];
};
const parameterArnOf = (name: string) => ({
  'Fn::Sub': ['arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}', { Name: name }],
});

describe('reading iam/function-policies.json', () => {
  it('reads the real file: every entry an object, its $comment skipped', () => {
    // Act
    const declarations = roles.readDeclarations(
      readFileSync(join(ROOT, 'iam', 'function-policies.json'), 'utf8'),
    );

    // Assert
    expect(Object.keys(declarations)).toContain('openApi');
    expect(Object.keys(declarations).some((name) => name.startsWith('$'))).toBe(false);
    expect(declarations.openApi).toEqual({
      s3: [],
      ownerSecret: false,
      shareSecret: false,
      verdictSigningKey: false,
      deadLetterQueue: false,
      consumesUploadEvents: false,
      readsUnvalidated: false,
      invokedByBucket: false,
      deliversWebhooks: false,
      sendsWebhooks: false,
      invokesValidator: false,
    });
  });

  it.each([
    ['an unknown key', { fn: { shareSecrets: true } }, /unknown key shareSecrets/],
    [
      'a flag that is not a boolean',
      { fn: { shareSecret: 'yes' } },
      /fn\.shareSecret: expected true or false/,
    ],
    [
      'an ownerSecret that is not a boolean',
      { fn: { ownerSecret: 'true' } },
      /fn\.ownerSecret: expected true or false/,
    ],
    [
      'a verdictSigningKey that is not a boolean',
      { fn: { verdictSigningKey: 1 } },
      /fn\.verdictSigningKey: expected true or false/,
    ],
    ['s3 that is not a list', { fn: { s3: S3_READ } }, /fn\.s3: expected a list/],
    [
      'a non-S3 action under s3',
      { fn: { s3: [{ ...S3_READ, Action: ['sqs:SendMessage'] }] } },
      /S3 actions only/,
    ],
    ['a wildcard action', { fn: { s3: [{ ...S3_READ, Action: ['s3:*'] }] } }, /S3 actions only/],
    [
      'a statement without resources',
      { fn: { s3: [{ ...S3_READ, Resource: [] }] } },
      /must list its resources/,
    ],
    ['a name osls would not name CreateUpload…', { 'create-upload': {} }, /not a camelCase function name/],
    ['an entry that is not an object', { fn: [S3_READ] }, /expected an object/],
  ])('rejects %s', (_, entries, message) => {
    // Act + Assert
    expect(() => declare(entries as Record<string, Json>)).toThrow(message);
  });
});

describe('building the roles', () => {
  it('gives a function with an empty entry a role that writes its own log group and nothing else', () => {
    // Act
    const built = roles.build(declare({ openApi: {} }), SETTINGS);

    // Assert
    expect(Object.keys(built.resources)).toEqual(['OpenApiRole']);
    expect(built.resources.OpenApiRole?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    });
    expect(statementsOf(built, 'OpenApiRole')).toEqual([
      {
        Sid: 'WriteOwnLogGroup',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${OpenApiLogGroup}:*',
        },
      },
    ]);
  });

  it('fills the bucket placeholder with the bucket Ref, or with its name for the bucket’s notification target', () => {
    // Act
    const built = roles.build(
      declare({ getFile: { s3: [S3_READ] }, validateUpload: { invokedByBucket: true, s3: [S3_READ] } }),
      SETTINGS,
    );

    // Assert
    expect(statementsOf(built, 'GetFileRole')[1]).toEqual({
      ...S3_READ,
      Resource: [{ 'Fn::Sub': [S3_READ.Resource[0], BUCKET_REFS] }],
    });
    expect(statementsOf(built, 'ValidateUploadRole')[1]?.Resource).toEqual([
      { 'Fn::Sub': [S3_READ.Resource[0], { ...BUCKET_REFS, UploadsBucket: SETTINGS.bucketName }] },
    ]);
    expect(built.resources.ValidateUploadLambdaFunction).toEqual({
      Type: 'AWS::Lambda::Function',
      Properties: { Environment: { Variables: { UPLOADS_BUCKET: SETTINGS.bucketName } } },
    });
    expect(built.resources.GetFileLambdaFunction).toBeUndefined();
  });

  it('lets a share-secret reader read that one parameter and decrypt it through SSM, and names it', () => {
    // Act
    const built = roles.build(declare({ openShare: { shareSecret: true } }), SETTINGS);

    // Assert
    const parameterArn = {
      'Fn::Sub': [
        'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}',
        { Name: SETTINGS.shareSecretParameter },
      ],
    };
    const [, ssm, kms, ...others] = statementsOf(built, 'OpenShareRole');
    expect(ssm).toEqual({
      Sid: 'ReadShareSecret',
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: parameterArn,
    });
    expect(kms).toMatchObject({
      Sid: 'DecryptShareSecretThroughSsm',
      Action: ['kms:Decrypt'],
      Condition: { StringEquals: { 'kms:EncryptionContext:PARAMETER_ARN': parameterArn } },
    });
    expect(others).toEqual([]);
    expect(built.resources.OpenShareLambdaFunction?.Properties).toEqual({
      Environment: { Variables: { SHARE_SECRET_PARAMETER: SETTINGS.shareSecretParameter } },
    });
  });

  it('lets an owner-secret reader read that one parameter and decrypt it through SSM, and names it', () => {
    // Act
    const built = roles.build(declare({ getFile: { ownerSecret: true } }), SETTINGS);

    // Assert
    const parameterArn = parameterArnOf(SETTINGS.ownerSecretParameter);
    const [, ssm, kms, ...others] = statementsOf(built, 'GetFileRole');
    expect(ssm).toEqual({
      Sid: 'ReadOwnerSecret',
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: parameterArn,
    });
    expect(kms).toEqual({
      Sid: 'DecryptOwnerSecretThroughSsm',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' },
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' },
          'kms:EncryptionContext:PARAMETER_ARN': parameterArn,
        },
      },
    });
    expect(others).toEqual([]);
    expect(built.resources.GetFileLambdaFunction?.Properties).toEqual({
      Environment: { Variables: { OWNER_SECRET_PARAMETER: SETTINGS.ownerSecretParameter } },
    });
  });

  it('gives a function with the owner secret and the share secret both, each its own grant and variable', () => {
    // Act
    const built = roles.build(declare({ createShare: { ownerSecret: true, shareSecret: true } }), SETTINGS);

    // Assert
    const sids = statementsOf(built, 'CreateShareRole').map((statement) => statement.Sid);
    expect(sids).toEqual([
      'WriteOwnLogGroup',
      'ReadOwnerSecret',
      'DecryptOwnerSecretThroughSsm',
      'ReadShareSecret',
      'DecryptShareSecretThroughSsm',
    ]);
    expect(built.resources.CreateShareLambdaFunction?.Properties).toEqual({
      Environment: {
        Variables: {
          OWNER_SECRET_PARAMETER: SETTINGS.ownerSecretParameter,
          SHARE_SECRET_PARAMETER: SETTINGS.shareSecretParameter,
        },
      },
    });
  });

  it('never names the owner secret to a function whose entry does not say so', () => {
    // Act
    const built = roles.build(
      declare({ getFile: { ownerSecret: true }, openShare: { shareSecret: true }, validateUpload: {} }),
      SETTINGS,
    );

    // Assert
    const text = (name: string) => JSON.stringify(built.resources[name] ?? {});
    for (const name of ['OpenShareRole', 'OpenShareLambdaFunction', 'ValidateUploadRole']) {
      expect(text(name)).not.toContain(SETTINGS.ownerSecretParameter);
      expect(text(name)).not.toContain('OWNER_SECRET');
    }
    expect(built.resources.ValidateUploadLambdaFunction).toBeUndefined();
  });

  it('fills the state bucket placeholder with its Ref, for the notification target too (no cycle: it names no function)', () => {
    // Arrange
    const epochs = {
      Sid: 'BumpShareEpochs',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: ['arn:${AWS::Partition}:s3:::${StateBucket}/share-epochs/*'],
    };

    // Act
    const built = roles.build(
      declare({ revokeShares: { s3: [epochs] }, validateUpload: { invokedByBucket: true, s3: [epochs] } }),
      SETTINGS,
    );

    // Assert
    for (const role of ['RevokeSharesRole', 'ValidateUploadRole']) {
      const [, statement] = statementsOf(built, role);
      if (!statement) throw new Error(`${role} holds no S3 statement`);
      const [sub] = statement.Resource as [{ 'Fn::Sub': [string, Record<string, Json>] }];
      expect(sub['Fn::Sub'][0]).toBe(epochs.Resource[0]);
      expect(sub['Fn::Sub'][1].StateBucket).toEqual({ Ref: 'StateBucket' });
    }
  });

  it('makes a ConditionInAws the statement’s Condition in AWS, beside any Condition it has', () => {
    // Arrange
    const tagged = {
      Sid: 'IssueUploads',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:PutObjectTagging'],
      Resource: ['arn:${AWS::Partition}:s3:::${UploadsBucket}/uploads/*'],
      Condition: { Bool: { 'aws:SecureTransport': 'true' } },
      ConditionInAws: {
        StringEquals: { 's3:RequestObjectTag/validation-status': 'pending' },
        'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['validation-status'] },
      },
    };

    // Act
    const built = roles.build(declare({ createUpload: { s3: [tagged] } }), SETTINGS);

    // Assert
    const [, statement] = statementsOf(built, 'CreateUploadRole');
    expect(statement).not.toHaveProperty('ConditionInAws');
    expect(statement?.Condition).toEqual({ ...tagged.Condition, ...tagged.ConditionInAws });
  });

  it('lets the verdict signer read that one parameter and decrypt it through SSM, and names it', () => {
    // Act
    const built = roles.build(declare({ validateUpload: { verdictSigningKey: true } }), SETTINGS);

    // Assert
    const parameterArn = parameterArnOf(SETTINGS.verdictSigningKeyParameter);
    const [, ssm, kms, ...others] = statementsOf(built, 'ValidateUploadRole');
    expect(ssm).toEqual({
      Sid: 'ReadVerdictSigningKey',
      Effect: 'Allow',
      Action: ['ssm:GetParameter'],
      Resource: parameterArn,
    });
    expect(kms).toMatchObject({
      Sid: 'DecryptVerdictSigningKeyThroughSsm',
      Action: ['kms:Decrypt'],
      Condition: { StringEquals: { 'kms:EncryptionContext:PARAMETER_ARN': parameterArn } },
    });
    expect(others).toEqual([]);
    expect(built.resources.ValidateUploadLambdaFunction?.Properties).toEqual({
      Environment: { Variables: { VERDICT_SIGNING_KEY_PARAMETER: SETTINGS.verdictSigningKeyParameter } },
    });
  });

  it('never names the verdict signing key to a function whose entry does not say so', () => {
    // Act
    const built = roles.build(
      declare({ getFile: {}, openShare: { shareSecret: true }, validateUpload: { verdictSigningKey: true } }),
      SETTINGS,
    );

    // Assert
    const text = (role: string) => JSON.stringify(built.resources[role]);
    expect(text('GetFileRole')).not.toContain(SETTINGS.verdictSigningKeyParameter);
    expect(text('OpenShareRole')).not.toContain(SETTINGS.verdictSigningKeyParameter);
    expect(built.resources.GetFileLambdaFunction).toBeUndefined();
    expect(JSON.stringify(built.resources.OpenShareLambdaFunction)).not.toContain('VERDICT');
  });

  it('lets a dead-letter-queue sender send to the validator’s queue only', () => {
    // Act
    const built = roles.build(declare({ validateUpload: { deadLetterQueue: true } }), SETTINGS);

    // Assert
    expect(statementsOf(built, 'ValidateUploadRole')[1]).toEqual({
      Sid: 'SendFailedEventsToDlq',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: { 'Fn::GetAtt': ['UploadValidationDlq', 'Arn'] },
    });
  });

  it('lets the upload-events consumer receive and delete messages of that queue only', () => {
    // Act
    const built = roles.build(declare({ validateUpload: { consumesUploadEvents: true } }), SETTINGS);

    // Assert
    expect(statementsOf(built, 'ValidateUploadRole')[1]).toEqual({
      Sid: 'ReceiveUploadEvents',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      Resource: { 'Fn::GetAtt': ['UploadEventsQueue', 'Arn'] },
    });
  });

  it('exempts the unvalidated-upload readers from the tag gate, one negated operator each, in file order', () => {
    // Act
    const gate = roles.build(
      declare({
        validateUpload: { readsUnvalidated: true },
        openShare: {},
        getFile: { readsUnvalidated: true },
      }),
      SETTINGS,
    ).unvalidatedReadGate;

    // Assert
    expect(gate.Sid).toBe('DenyReadingUnvalidatedUploads');
    expect(gate.Action).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(gate.Condition).toEqual({
      StringNotEquals: { 's3:ExistingObjectTag/validation-status': 'passed' },
      StringNotLike: {
        'aws:userid': { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ValidateUploadRole', 'RoleId'] }, ':*']] },
      },
      StringNotLikeIfExists: {
        'aws:userid': { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['GetFileRole', 'RoleId'] }, ':*']] },
      },
    });
  });

  it('gives both buckets a TLS-only policy, and the uploads bucket the read gate too', () => {
    // Act
    const built = roles.build(declare({ getFile: { readsUnvalidated: true } }), SETTINGS);

    // Assert
    expect(Object.keys(built.bucketPolicies).sort()).toEqual([
      'AccessLogBucketPolicy',
      'StateBucketPolicy',
      'UploadsBucketPolicy',
    ]);
    const tlsOnly = (bucket: string) => ({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [{ 'Fn::GetAtt': [bucket, 'Arn'] }, { 'Fn::Sub': `\${${bucket}.Arn}/*` }],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(built.bucketPolicies.UploadsBucketPolicy).toEqual({
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'UploadsBucket' },
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [tlsOnly('UploadsBucket'), built.unvalidatedReadGate, ...built.retagGuards],
        },
      },
    });
    expect(built.bucketPolicies.StateBucketPolicy).toEqual({
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'StateBucket' },
        PolicyDocument: { Version: '2012-10-17', Statement: [tlsOnly('StateBucket')] },
      },
    });
  });

  it('keeps the tags of an upload carrying validation-status to the validator (verdictSigningKey): no other principal may change or remove them', () => {
    // Act
    const built = roles.build(
      declare({ validateUpload: { verdictSigningKey: true }, createUpload: {} }),
      SETTINGS,
    );

    // Assert
    expect(built.retagGuards).toEqual([
      {
        Sid: 'OnlyVerdictWritersRetagUploads',
        Effect: 'Deny',
        Principal: '*',
        Action: [
          's3:PutObjectTagging',
          's3:PutObjectVersionTagging',
          's3:DeleteObjectTagging',
          's3:DeleteObjectVersionTagging',
        ],
        Resource: { 'Fn::Sub': '${UploadsBucket.Arn}/uploads/*' },
        Condition: {
          StringLike: { 's3:ExistingObjectTag/validation-status': '*' },
          ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': ['ValidateUploadRole', 'Arn'] }] },
        },
      },
    ]);
  });

  it('with malwareScan guardduty, guards GuardDuty’s tag too, and lets GuardDuty’s role write beside the validator', () => {
    // Act
    const built = roles.build(declare({ validateUpload: { verdictSigningKey: true } }), {
      ...SETTINGS,
      malwareScan: 'guardduty',
    });

    // Assert
    expect(built.retagGuards.map((statement) => [statement.Sid, statement.Condition])).toEqual(
      [
        ['OnlyVerdictWritersRetagUploads', 'validation-status'],
        ['OnlyVerdictWritersRetagScannedUploads', 'GuardDutyMalwareScanStatus'],
      ].map(([sid, tag]) => [
        sid,
        {
          StringLike: { [`s3:ExistingObjectTag/${tag}`]: '*' },
          ArnNotEquals: {
            'aws:PrincipalArn': [
              { 'Fn::GetAtt': ['ValidateUploadRole', 'Arn'] },
              { 'Fn::GetAtt': ['MalwareProtectionRole', 'Arn'] },
            ],
          },
        },
      ]),
    );
  });

  it('exempts nobody from the retag guard without a verdict signer, and refuses two', () => {
    // Act
    const built = roles.build(declare({ createUpload: {} }), SETTINGS);

    // Assert
    expect(built.retagGuards.map((statement) => statement.Condition)).toEqual([
      { StringLike: { 's3:ExistingObjectTag/validation-status': '*' } },
    ]);
    expect(() =>
      roles.build(declare({ a: { verdictSigningKey: true }, b: { verdictSigningKey: true } }), SETTINGS),
    ).toThrow(/one function signs verdicts, not a, b/);
  });

  it('refuses a third unvalidated-upload reader (there are two operators)', () => {
    // Arrange
    const declarations = declare({
      a: { readsUnvalidated: true },
      b: { readsUnvalidated: true },
      c: { readsUnvalidated: true },
    });

    // Act + Assert
    expect(() => roles.build(declarations, SETTINGS)).toThrow(/at most two/);
  });
});

describe('webhooks', () => {
  const entries = { validateUpload: { sendsWebhooks: true }, deliverWebhook: { deliversWebhooks: true } };
  const webhookText = /WEBHOOK|webhook-secret|lambda:/;

  it('with a webhook URL: the deliverer reads its secret, is told the URL and sends to its queue; the validator may invoke it only', () => {
    // Act
    const built = roles.build(declare(entries), WITH_WEBHOOKS);

    // Assert
    const parameterArn = parameterArnOf(WITH_WEBHOOKS.webhookSecretParameter);
    expect(statementsOf(built, 'DeliverWebhookRole').slice(1)).toEqual([
      { Sid: 'ReadWebhookSecret', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: parameterArn },
      {
        Sid: 'DecryptWebhookSecretThroughSsm',
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
      {
        Sid: 'SendUndeliveredWebhooksToDlq',
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: { 'Fn::GetAtt': ['WebhookDeadLetterQueue', 'Arn'] },
      },
    ]);
    expect(statementsOf(built, 'ValidateUploadRole').slice(1)).toEqual([
      {
        Sid: 'HandWebhooksToTheDeliverer',
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: {
          'Fn::Sub': [
            'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Name}',
            { Name: 'presign-test-deliverWebhook' },
          ],
        },
      },
    ]);
    expect(built.resources.DeliverWebhookLambdaFunction?.Properties).toEqual({
      Environment: {
        Variables: {
          WEBHOOK_URL: WITH_WEBHOOKS.webhookUrl,
          WEBHOOK_SECRET_PARAMETER: WITH_WEBHOOKS.webhookSecretParameter,
        },
      },
    });
    expect(built.resources.ValidateUploadLambdaFunction?.Properties).toEqual({
      Environment: { Variables: { WEBHOOK_DELIVERER_FUNCTION: 'presign-test-deliverWebhook' } },
    });
  });

  it('without a webhook URL: nothing of webhooks but the deliverer’s own queue, and the validator may invoke nothing', () => {
    // Act
    const built = roles.build(declare(entries), SETTINGS);

    // Assert
    expect(statementsOf(built, 'DeliverWebhookRole').map((statement) => statement.Sid)).toEqual([
      'WriteOwnLogGroup',
      'SendUndeliveredWebhooksToDlq',
    ]);
    expect(statementsOf(built, 'ValidateUploadRole').map((statement) => statement.Sid)).toEqual([
      'WriteOwnLogGroup',
    ]);
    expect(built.resources.DeliverWebhookLambdaFunction).toBeUndefined();
    expect(built.resources.ValidateUploadLambdaFunction).toBeUndefined();
    const { DeliverWebhookRole: _deliverer, ...others } = built.resources;
    expect(JSON.stringify(others)).not.toMatch(webhookText);
  });

  it('grants nothing of webhooks to a function whose entry does not say so', () => {
    // Act
    const built = roles.build(declare({ ...entries, getFile: { readsUnvalidated: true } }), WITH_WEBHOOKS);

    // Assert
    expect(JSON.stringify([built.resources.GetFileRole, built.resources.GetFileLambdaFunction])).not.toMatch(
      webhookText,
    );
  });

  it.each([
    [
      'two deliverers',
      { a: { deliversWebhooks: true }, b: { deliversWebhooks: true } },
      /one function delivers/,
    ],
    [
      'a sender without a deliverer',
      { validateUpload: { sendsWebhooks: true } },
      /no function delivers them/,
    ],
    [
      'a flag that is not a boolean',
      { deliverWebhook: { deliversWebhooks: 'yes' } },
      /expected true or false/,
    ],
  ])('refuses %s', (_, declarations, message) => {
    // Act + Assert
    expect(() => roles.build(declare(declarations as Record<string, Json>), WITH_WEBHOOKS)).toThrow(message);
  });
});

describe('matching the functions of serverless.yml', () => {
  const declarations = declare({ health: {}, getFile: {} });

  it('accepts functions that each use the role built from their entry', () => {
    // Act + Assert
    expect(() =>
      roles.checkFunctions(declarations, {
        health: { role: 'HealthRole' },
        getFile: { role: 'GetFileRole' },
      }),
    ).not.toThrow();
  });

  it.each([
    ['an entry without a function', { health: { role: 'HealthRole' } }, /declares unknown getFile/],
    [
      'a function without an entry',
      { health: { role: 'HealthRole' }, getFile: { role: 'GetFileRole' }, openApi: { role: 'OpenApiRole' } },
      /no entry for openApi/,
    ],
    [
      'a function with another role',
      { health: { role: 'GetFileRole' }, getFile: { role: 'GetFileRole' } },
      /HealthRole/,
    ],
    ['a function with no role', { health: {}, getFile: { role: 'GetFileRole' } }, /must use role HealthRole/],
  ])('refuses %s', (_, functions, message) => {
    // Act + Assert
    expect(() => roles.checkFunctions(declarations, functions)).toThrow(message);
  });

  it('resolves for osls from the real file, the stage params and the functions', async () => {
    // Arrange
    const names = Object.keys(
      roles.readDeclarations(readFileSync(join(ROOT, 'iam', 'function-policies.json'), 'utf8')),
    );
    const functions = Object.fromEntries(
      names.map((fn) => [fn, { role: `${fn[0]?.toUpperCase()}${fn.slice(1)}Role` }]),
    );
    const params: Record<string, string> = {
      'param:bucketName': SETTINGS.bucketName,
      'param:ownerSecretParameter': SETTINGS.ownerSecretParameter,
      'param:shareSecretParameter': SETTINGS.shareSecretParameter,
      'param:verdictSigningKeyParameter': SETTINGS.verdictSigningKeyParameter,
      'param:webhookUrl': '',
      'param:webhookSecretParameter': SETTINGS.webhookSecretParameter,
      'self:service': 'presign',
      'sls:stage': 'test',
      'param:partnerReaders': '',
      'param:malwareScan': 'none',
    };

    // Act
    const built = await roles({
      resolveVariable: async (variable) => params[variable] ?? Promise.reject(new Error(variable)),
      resolveConfigurationProperty: async (path) => (path.join('.') === 'functions' ? functions : undefined),
    });

    // Assert
    const roleNames = Object.entries(built.resources)
      .filter(([, resource]) => resource.Type === 'AWS::IAM::Role')
      .map(([name]) => name);
    expect(roleNames.sort()).toEqual(
      Object.values(functions)
        .map((fn) => fn.role)
        .sort(),
    );
    expect(built.resources.ValidateUploadLambdaFunction?.Properties).toEqual({
      Environment: {
        Variables: {
          UPLOADS_BUCKET: SETTINGS.bucketName,
          VERDICT_SIGNING_KEY_PARAMETER: SETTINGS.verdictSigningKeyParameter,
        },
      },
    });
    const withSigningKey = Object.entries(built.resources)
      .filter(([, resource]) => JSON.stringify(resource).includes(SETTINGS.verdictSigningKeyParameter))
      .map(([name]) => name);
    expect(withSigningKey.sort()).toEqual(['ValidateUploadLambdaFunction', 'ValidateUploadRole']);
    // The owner secret: exactly the functions that turn a bearer token into an owner, role and variable.
    const withOwnerSecret = Object.entries(built.resources)
      .filter(([, resource]) => JSON.stringify(resource).includes(SETTINGS.ownerSecretParameter))
      .map(([name]) => name);
    const bearerFunctions = [
      'CreateUpload',
      'CreateMultipartUpload',
      'SignUploadParts',
      'ListUploadParts',
      'CompleteUpload',
      'AbortUpload',
      'GetUsage',
      'GetFile',
      'ListFiles',
      'DeleteFile',
      'CreateDownloadUrl',
      'CreateShare',
      'RevokeShares',
    ];
    expect(withOwnerSecret.sort()).toEqual(
      bearerFunctions.flatMap((fn) => [`${fn}LambdaFunction`, `${fn}Role`]).sort(),
    );
    for (const fn of bearerFunctions) {
      expect(JSON.stringify(built.resources[`${fn}LambdaFunction`]?.Properties)).toContain(
        `"OWNER_SECRET_PARAMETER":"${SETTINGS.ownerSecretParameter}"`,
      );
    }
    expect(Object.keys(built.bucketPolicies).sort()).toEqual([
      'AccessLogBucketPolicy',
      'StateBucketPolicy',
      'UploadsBucketPolicy',
    ]);
  });
});

describe('the local Ceph policies (scripts/function-policies.ts)', () => {
  const policies = functionPolicies({ uploads: 'local-uploads', state: 'local-state' }, 'aws');

  it('fills both buckets and the partition', () => {
    // Act
    const text = JSON.stringify(policies);

    // Assert
    expect(text).not.toMatch(/\$\{/);
    expect(text).toContain('arn:aws:s3:::local-uploads/uploads/*');
    expect(text).toContain('arn:aws:s3:::local-state/share-epochs/*');
  });

  it('leaves out ConditionInAws (Ceph RGW has no request tags for a form POST), keeping the statement and its Condition', () => {
    // Act
    const [issue, tag, ...others] = policies.createUpload ?? [];

    // Assert
    expect(others.map((statement) => statement.Sid)).toEqual([
      'ChangeOwnersUsage',
      'ListOwnersUsageShards',
      'CheckWhetherLapsedUploadsLanded',
      'MarkUploadsPending',
    ]);
    expect(issue).toEqual({
      Sid: 'IssueUploadsUnderUploadsPrefix',
      Effect: 'Allow',
      Action: ['s3:PutObject'],
      Resource: ['arn:aws:s3:::local-uploads/uploads/*'],
    });
    // Ceph RGW evaluates existing object tags for PutObjectTagging: the retag refusal holds there too.
    expect(tag).toEqual({
      Sid: 'TagUploadsOnlyAsTheyAreCreated',
      Effect: 'Allow',
      Action: ['s3:PutObjectTagging'],
      Resource: ['arn:aws:s3:::local-uploads/uploads/*'],
      Condition: {
        Null: {
          's3:ExistingObjectTag/validation-status': 'true',
          's3:ExistingObjectTag/GuardDutyMalwareScanStatus': 'true',
        },
      },
    });
    expect(JSON.stringify(policies)).not.toContain('ConditionInAws');
    expect(JSON.stringify(policies)).not.toContain('RequestObjectTag');
  });

  it('keeps the plain Conditions Ceph evaluates, such as the version listing’s prefix', () => {
    // Act
    const listing = (policies.getFile ?? []).find((statement) => statement.Sid === 'ListVersionsOfUploads');

    // Assert
    expect(listing).toEqual({
      Sid: 'ListVersionsOfUploads',
      Effect: 'Allow',
      Action: ['s3:ListBucketVersions'],
      Resource: ['arn:aws:s3:::local-uploads'],
      Condition: { StringLike: { 's3:prefix': 'uploads/*' } },
    });
  });

  it('has S3 statements only: no logs, SSM, KMS or SQS grants', () => {
    // Act
    const actions = Object.values(policies).flatMap((statements) => statements.flatMap((s) => s.Action));

    // Assert
    expect(actions.every((action) => action.startsWith('s3:'))).toBe(true);
    expect(Object.keys(policies)).not.toContain('health');
  });
});

describe('partner readers (iam/partner-readers.cjs)', () => {
  interface PartnerEntry {
    id: string;
    principalArn: string;
    prefix: string;
    role: boolean;
    externalId?: string;
  }
  const partners = createRequire(import.meta.url)(join(ROOT, 'iam', 'partner-readers.cjs')) as {
    parsePartnerReaders(
      value: unknown,
      options?: { localAccount?: boolean; baseDir?: string },
    ): PartnerEntry[];
  };
  const SEGMENT = '0123456789abcdef0123456789abcdef';
  const ROOT_ARN = 'arn:aws:iam::111122223333:root';
  const parse = (entries: unknown) => partners.parsePartnerReaders(JSON.stringify(entries));
  const uploadsPolicyOf = (built: Built) => {
    const policy = built.bucketPolicies.UploadsBucketPolicy;
    if (!policy) throw new Error('no UploadsBucketPolicy');
    return policy.Properties.PolicyDocument;
  };

  it('reads an empty param, or an empty list, as no partner at all', () => {
    // Act + Assert
    expect(partners.parsePartnerReaders('')).toEqual([]);
    expect(partners.parsePartnerReaders(undefined)).toEqual([]);
    expect(parse([])).toEqual([]);
  });

  it('normalizes an entry: uploads/ by default, a trailing slash, no role, a stable id', () => {
    // Act
    const [whole, narrowed] = parse([
      { principalArn: ROOT_ARN },
      { principalArn: 'arn:aws:iam::111122223333:role/path/reader', prefix: `uploads/${SEGMENT}` },
    ]);

    // Assert
    expect(whole).toEqual({
      id: expect.stringMatching(/^[0-9A-F]{10}$/),
      principalArn: ROOT_ARN,
      prefix: 'uploads/',
      role: false,
    });
    expect(narrowed?.prefix).toBe(`uploads/${SEGMENT}/`);
    expect(parse([{ principalArn: ROOT_ARN }])[0]?.id).toBe(whole?.id);
    expect(narrowed?.id).not.toBe(whole?.id);
  });

  it('reads the list from a file when the param is a path', () => {
    // Arrange
    const dir = mkdtempSync(join(tmpdir(), 'partners-'));
    writeFileSync(
      join(dir, 'partners.json'),
      JSON.stringify([{ principalArn: ROOT_ARN, role: true, externalId: 'x-1' }]),
    );

    // Act
    const [entry] = partners.parsePartnerReaders('partners.json', { baseDir: dir });

    // Assert
    expect(entry).toMatchObject({ principalArn: ROOT_ARN, role: true, externalId: 'x-1' });
  });

  it('accepts an ARN with an empty account only for the local gateway', () => {
    // Arrange
    const local = [{ principalArn: 'arn:aws:iam:::role/partner' }];

    // Act + Assert
    expect(() => parse(local)).toThrow(/principalArn must be/);
    expect(partners.parsePartnerReaders(JSON.stringify(local), { localAccount: true })).toHaveLength(1);
  });

  it.each([
    ['text that is not JSON', '[{', /not valid JSON/],
    ['a path to no file', 'no/such/partners.json', /cannot read/],
    ['an object instead of a list', { principalArn: ROOT_ARN }, /expected a list/],
    ['an entry that is not an object', ['arn:aws:iam::111122223333:root'], /entry 0: expected an object/],
    ['an unknown key', [{ principalArn: ROOT_ARN, prefixes: ['uploads/'] }], /unknown key prefixes/],
    ['an IAM user', [{ principalArn: 'arn:aws:iam::111122223333:user/bob' }], /principalArn must be/],
    ['any principal', [{ principalArn: '*' }], /principalArn must be/],
    ['a wildcard role', [{ principalArn: 'arn:aws:iam::111122223333:role/*' }], /principalArn must be/],
    [
      'an assumed-role session',
      [{ principalArn: 'arn:aws:sts::111122223333:assumed-role/r/s' }],
      /principalArn must be/,
    ],
    [
      'an account id of 11 digits',
      [{ principalArn: 'arn:aws:iam::11112222333:root' }],
      /principalArn must be/,
    ],
    ['a service principal', [{ principalArn: 's3.amazonaws.com' }], /principalArn must be/],
    ['a prefix outside uploads/', [{ principalArn: ROOT_ARN, prefix: 'share-epochs/' }], /prefix must be/],
    ['a wildcard prefix', [{ principalArn: ROOT_ARN, prefix: 'uploads/*' }], /prefix must be/],
    [
      'a prefix that is not an owner segment',
      [{ principalArn: ROOT_ARN, prefix: 'uploads/alice/' }],
      /prefix must be/,
    ],
    [
      'an uppercase segment',
      [{ principalArn: ROOT_ARN, prefix: `uploads/${SEGMENT.toUpperCase()}/` }],
      /prefix must be/,
    ],
    [
      'a prefix below a segment',
      [{ principalArn: ROOT_ARN, prefix: `uploads/${SEGMENT}/x/` }],
      /prefix must be/,
    ],
    ['a role that is not a boolean', [{ principalArn: ROOT_ARN, role: 'yes' }], /role must be true or false/],
    [
      'an externalId without a role',
      [{ principalArn: ROOT_ARN, externalId: 'x-1' }],
      /externalId applies to role: true only/,
    ],
    [
      'an externalId of one character',
      [{ principalArn: ROOT_ARN, role: true, externalId: 'x' }],
      /externalId must be/,
    ],
    [
      'a repeated entry',
      [{ principalArn: ROOT_ARN }, { principalArn: ROOT_ARN, prefix: 'uploads/' }],
      /entry 1: repeats/,
    ],
  ])('refuses %s, naming the param', (_, value, message) => {
    // Act + Assert
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    expect(() => partners.parsePartnerReaders(text)).toThrow(/^partnerReaders: /);
    expect(() => partners.parsePartnerReaders(text)).toThrow(message);
  });

  it('builds no partner statement, role or output from an empty list', () => {
    // Act
    const built = roles.build(declare({ getFile: { readsUnvalidated: true } }), {
      ...SETTINGS,
      partnerReaders: [],
    });

    // Assert
    const statements = (uploadsPolicyOf(built) as unknown as { Statement: Json[] }).Statement;
    expect(statements).toHaveLength(3);
    expect(JSON.stringify(statements)).not.toContain('Partner');
    expect(Object.keys(built.resources).filter((name) => name.startsWith('Partner'))).toEqual([]);
    expect((built as Built & { partnerOutputs: object }).partnerOutputs).toEqual({});
  });

  it('puts bucket-policy partners after the read gate and the retag guard, and never into their exemptions', () => {
    // Act
    const built = roles.build(declare({ getFile: { readsUnvalidated: true } }), {
      ...SETTINGS,
      partnerReaders: parse([{ principalArn: ROOT_ARN }]),
    });

    // Assert
    const statements = (uploadsPolicyOf(built) as unknown as { Statement: { Sid: string }[] }).Statement;
    expect(statements.map((statement) => statement.Sid.replace(/[0-9A-F]{10}$/, ''))).toEqual([
      'DenyInsecureTransport',
      'DenyReadingUnvalidatedUploads',
      'OnlyVerdictWritersRetagUploads',
      'PartnerRead',
      'PartnerList',
    ]);
    expect(JSON.stringify(built.unvalidatedReadGate)).not.toContain(ROOT_ARN);
    expect(JSON.stringify(built.retagGuards)).not.toContain(ROOT_ARN);
  });

  it('fails the resolver osls calls on a bad entry, so packaging stops with the message', async () => {
    // Arrange
    const names = Object.keys(
      roles.readDeclarations(readFileSync(join(ROOT, 'iam', 'function-policies.json'), 'utf8')),
    );
    const functions = Object.fromEntries(
      names.map((fn) => [fn, { role: `${fn[0]?.toUpperCase()}${fn.slice(1)}Role` }]),
    );
    const params: Record<string, string> = {
      'param:bucketName': SETTINGS.bucketName,
      'param:ownerSecretParameter': SETTINGS.ownerSecretParameter,
      'param:shareSecretParameter': SETTINGS.shareSecretParameter,
      'param:verdictSigningKeyParameter': SETTINGS.verdictSigningKeyParameter,
      'param:webhookUrl': '',
      'param:webhookSecretParameter': SETTINGS.webhookSecretParameter,
      'self:service': 'presign',
      'sls:stage': 'test',
      'param:partnerReaders': JSON.stringify([{ principalArn: ROOT_ARN, prefix: 'uploads/*' }]),
    };

    // Act
    const resolved = roles({
      resolveVariable: async (variable) => params[variable] ?? Promise.reject(new Error(variable)),
      resolveConfigurationProperty: async (path) => (path.join('.') === 'functions' ? functions : undefined),
    });

    // Assert
    await expect(resolved).rejects.toThrow(/partnerReaders: entry 0: prefix must be/);
  });
});
