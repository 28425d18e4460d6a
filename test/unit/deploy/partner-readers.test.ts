// The partner grants `osls package` puts into the stack for AWS when the
// `partnerReaders` param names partners: bucket-policy statements for those
// named there, a role of this account for those that assume one, and nothing
// else; and a bad entry fails packaging. One package run in a copy of the
// repository, with no AWS credentials (as cloudformation.test.ts, which checks
// the stack without partners).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageArgs, packageCopy } from '../../support/package-copy.js';

const SEGMENT_A = '0123456789abcdef0123456789abcdef';
const SEGMENT_C = 'fedcba9876543210fedcba9876543210';
const PARTNERS = [
  { principalArn: 'arn:aws:iam::111122223333:root', prefix: `uploads/${SEGMENT_A}/` },
  { principalArn: 'arn:aws:iam::444455556666:role/data/partner-reader' },
  {
    principalArn: 'arn:aws:iam::777788889999:role/reader',
    prefix: `uploads/${SEGMENT_C}`,
    role: true,
    externalId: 'acme-7f3a9c',
  },
  { principalArn: 'arn:aws:iam::121212121212:root', role: true },
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: Json;
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}
interface Resource {
  Type: string;
  Properties: { [key: string]: Json };
}

let copy: ReturnType<typeof packageCopy> | undefined;
let template: { Resources: Record<string, Resource>; Outputs: Record<string, { Value: Json }> };

function osls(args: string[]) {
  if (!copy) throw new Error('no copy of the repository to package');
  return copy.osls(args);
}

const uploadsPolicy = (): Statement[] => {
  const policy = template.Resources.UploadsBucketPolicy;
  if (!policy) throw new Error('no UploadsBucketPolicy');
  return (policy.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement;
};
const partnerStatements = () => uploadsPolicy().filter((statement) => statement.Sid?.startsWith('Partner'));
const roleFor = (principalArn: string) => {
  const found = Object.entries(template.Resources).filter(
    ([name, value]) =>
      name.startsWith('PartnerReader') &&
      value.Type === 'AWS::IAM::Role' &&
      JSON.stringify(value.Properties.AssumeRolePolicyDocument).includes(principalArn),
  );
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
};
const readAndList = (prefix: string) => [
  {
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:GetObjectVersion'],
    Resource: { 'Fn::Sub': `\${UploadsBucket.Arn}/${prefix}*` },
  },
  {
    Effect: 'Allow',
    Action: ['s3:ListBucket'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder.
    Resource: { 'Fn::Sub': '${UploadsBucket.Arn}' },
    Condition: { StringLike: { 's3:prefix': `${prefix}*` } },
  },
];
const withoutSid = ({ Sid: _sid, ...statement }: Statement) => statement;

beforeAll(async () => {
  copy = packageCopy('presign-partners-');
  await copy.osls(packageArgs({ partnerReaders: JSON.stringify(PARTNERS) }));
  template = copy.template();
}, 250_000);

afterAll(() => copy?.remove());

describe('partners named in the bucket policy', () => {
  it('may read and list their prefix: one pair of statements each, after the TLS rule, the read gate and the retag guard', () => {
    // Act
    const statements = uploadsPolicy();

    // Assert
    expect(statements.map((statement) => statement.Sid?.replace(/[0-9A-F]{10}$/, ''))).toEqual([
      'DenyInsecureTransport',
      'DenyReadingUnvalidatedUploads',
      'OnlyVerdictWritersRetagUploads',
      'PartnerRead',
      'PartnerList',
      'PartnerRead',
      'PartnerList',
    ]);
    const [a, b] = [PARTNERS[0], PARTNERS[1]];
    expect(partnerStatements().map(withoutSid)).toEqual([
      ...readAndList(`uploads/${SEGMENT_A}/`).map((s) => ({ ...s, Principal: { AWS: a?.principalArn } })),
      ...readAndList('uploads/').map((s) => ({ ...s, Principal: { AWS: b?.principalArn } })),
    ]);
  });

  it('are granted nothing else: no write, tagging, delete, version listing, wildcard principal or other bucket', () => {
    // Act
    const actions = new Set(partnerStatements().flatMap((statement) => [statement.Action].flat()));
    const principals = partnerStatements().map((statement) => JSON.stringify(statement.Principal));

    // Assert
    expect([...actions].sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket']);
    expect(principals.every((principal) => !principal.includes('*'))).toBe(true);
    expect(partnerStatements().every((statement) => statement.Effect === 'Allow')).toBe(true);
    expect(JSON.stringify(template.Resources.StateBucketPolicy)).not.toContain('Partner');
    expect(JSON.stringify(template.Resources.AccessLogBucketPolicy)).not.toContain('Partner');
  });

  it('stay under the read gate: it exempts the two function roles only, whatever partners are named', () => {
    // Act
    const gate = uploadsPolicy().find((statement) => statement.Sid === 'DenyReadingUnvalidatedUploads');

    // Assert
    expect(gate?.Principal).toBe('*');
    expect(gate?.Condition).toEqual({
      StringNotEquals: { 's3:ExistingObjectTag/validation-status': 'passed' },
      StringNotLike: {
        'aws:userid': { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ValidateUploadRole', 'RoleId'] }, ':*']] },
      },
      StringNotLikeIfExists: {
        'aws:userid': { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['GetFileRole', 'RoleId'] }, ':*']] },
      },
    });
  });
});

describe('partners that assume a role of this account', () => {
  it('get a role each, trusting their principal alone, with their ExternalId when they have one', () => {
    // Act
    const [, withId] = roleFor('arn:aws:iam::777788889999:role/reader');
    const [, withoutId] = roleFor('arn:aws:iam::121212121212:root');

    // Assert
    expect(withId.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::777788889999:role/reader' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': 'acme-7f3a9c' } },
        },
      ],
    });
    expect(withoutId.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::121212121212:root' }, Action: 'sts:AssumeRole' },
      ],
    });
  });

  it('may read and list their prefix through it, nothing more, and are not in the bucket policy', () => {
    // Act
    const [, role] = roleFor('arn:aws:iam::777788889999:role/reader');
    const policies = role.Properties.Policies as unknown as {
      PolicyName: string;
      PolicyDocument: { Statement: Statement[] };
    }[];

    // Assert
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(policies).toHaveLength(1);
    expect(policies[0]?.PolicyDocument.Statement.map(withoutSid)).toEqual(
      readAndList(`uploads/${SEGMENT_C}/`),
    );
    expect(JSON.stringify(uploadsPolicy())).not.toContain('777788889999');
    expect(JSON.stringify(uploadsPolicy())).not.toContain('121212121212');
  });

  it('find its ARN among the stack outputs', () => {
    // Act
    const [name] = roleFor('arn:aws:iam::777788889999:role/reader');

    // Assert
    expect(template.Outputs[`${name}Arn`]?.Value).toEqual({ 'Fn::GetAtt': [name, 'Arn'] });
    expect(Object.keys(template.Outputs).filter((output) => output.startsWith('PartnerReader'))).toHaveLength(
      2,
    );
  });
});

describe('a bad partnerReaders param', () => {
  it.each([
    [
      'an IAM user',
      [{ principalArn: 'arn:aws:iam::111122223333:user/bob' }],
      'partnerReaders: entry 0: principalArn must be an account root',
    ],
    [
      'a prefix outside uploads/',
      [{ principalArn: PARTNERS[0]?.principalArn, prefix: 'share-epochs/' }],
      'partnerReaders: entry 0: prefix must be uploads/ or uploads/<owner segment>/',
    ],
  ])(
    'fails packaging with what is wrong: %s',
    async (_, partners, message) => {
      // Act
      const failure = await osls(packageArgs({ partnerReaders: JSON.stringify(partners) })).then(
        () => undefined,
        (error: { code?: number; stdout?: string; stderr?: string }) => error,
      );

      // Assert: osls prints the resolver's error on stdout.
      expect(failure?.code).toBe(1);
      expect(`${failure?.stdout}${failure?.stderr}`).toContain(message);
    },
    60_000,
  );
});
