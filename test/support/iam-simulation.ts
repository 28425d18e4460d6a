import { runSimulation } from '@cloud-copilot/iam-simulate';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A packaged CloudFormation template, as far as the simulation reads it. */
export interface SimulatedTemplate {
  Resources: Record<string, { Type: string; Properties?: JsonObject }>;
}

/** The deployment the template is resolved for: one account, one Region. */
export const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** The outcome an IAM policy engine gives one request. */
export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface ObjectRequest {
  /** The logical id of the role whose session asks (`CreateUploadRole`), or a role's name outside the template. */
  role: string;
  action: string;
  /** The object's key in the uploads bucket. */
  key: string;
  /** The tags the object (or the version named) already carries; none for a key that does not exist yet. */
  existingTags?: Record<string, string>;
  /** The tag set the request writes (a PutObjectTagging body, or a create's tagging). */
  requestTags?: Record<string, string>;
  /** Leaves the uploads bucket's policy out: what the role's own policy decides alone. */
  withoutBucketPolicy?: boolean;
  /** Replaces the role's policies by these (a principal granted rights outside the stack). */
  identityPolicy?: Json;
}

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Evaluates requests of a role's session against the packaged template, as S3
 * would in the account the template is deployed to: the role's inline
 * policies, the uploads bucket's policy, and the request's tag condition keys
 * (`s3:ExistingObjectTag/…`, `s3:RequestObjectTag/…`, `s3:RequestObjectTagKeys`).
 * Intrinsic functions are resolved for that deployment: a role's ARN and id
 * are made from its logical id, a bucket's name is its `BucketName`.
 */
export function templateSimulator(template: SimulatedTemplate) {
  const resource = (id: string) => {
    const found = template.Resources[id];
    if (!found) throw new Error(`no resource ${id} in the template`);
    return found;
  };
  const bucketName = (id: string) => {
    const name = resource(id).Properties?.BucketName;
    return typeof name === 'string' ? name : `${id.toLowerCase()}-generated`;
  };
  const roleId = (id: string) => `AROA${id.toUpperCase().replace(/[^A-Z0-9]/g, '')}`;
  const roleArn = (id: string) => `arn:aws:iam::${ACCOUNT}:role/${id}`;
  const ref = (id: string): string => {
    const pseudo = PSEUDO[id];
    if (pseudo) return pseudo;
    return resource(id).Type === 'AWS::S3::Bucket' ? bucketName(id) : id;
  };
  const attribute = (id: string, name: string): string => {
    const { Type } = resource(id);
    if (name === 'RoleId') return roleId(id);
    if (name !== 'Arn') throw new Error(`cannot resolve ${id}.${name}`);
    if (Type === 'AWS::IAM::Role') return roleArn(id);
    if (Type === 'AWS::S3::Bucket') return `arn:aws:s3:::${bucketName(id)}`;
    if (Type === 'AWS::Lambda::Function') return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
    if (Type === 'AWS::SQS::Queue') return `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
    if (Type === 'AWS::Logs::LogGroup') return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}:*`;
    return `arn:aws:cloudformation:${REGION}:${ACCOUNT}:${id}`;
  };

  const resolve = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(resolve);
    if (!isObject(value)) return value;
    if (typeof value.Ref === 'string') return ref(value.Ref);
    const getAtt = value['Fn::GetAtt'];
    if (getAtt !== undefined) {
      const [id, name] = Array.isArray(getAtt) ? getAtt.map(String) : String(getAtt).split('.');
      return attribute(String(id), String(name));
    }
    const join = value['Fn::Join'];
    if (Array.isArray(join)) {
      const parts = resolve(join[1] ?? []);
      return (Array.isArray(parts) ? parts : [parts]).map(String).join(String(join[0]));
    }
    const sub = value['Fn::Sub'];
    if (sub !== undefined) {
      const [text, variables] = Array.isArray(sub) ? sub : [sub, {}];
      const locals = isObject(variables) ? variables : {};
      return String(text).replace(/\$\{([^}!]+)\}/g, (_whole, name: string) => {
        const local = locals[name];
        if (local !== undefined) return String(resolve(local));
        const [id, attr] = name.split('.');
        return attr ? attribute(String(id), attr) : ref(name);
      });
    }
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
  };

  const uploadsBucketPolicy = (() => {
    const entry = Object.values(template.Resources).find(
      (candidate) =>
        candidate.Type === 'AWS::S3::BucketPolicy' &&
        JSON.stringify(candidate.Properties?.Bucket) === JSON.stringify({ Ref: 'UploadsBucket' }),
    );
    if (!entry) throw new Error('no policy on UploadsBucket');
    return resolve(entry.Properties?.PolicyDocument ?? null);
  })();

  const rolePolicies = (role: string) => {
    const found = resource(role);
    if (found.Type !== 'AWS::IAM::Role') throw new Error(`${role} is not a role`);
    const policies = (found.Properties?.Policies ?? []) as JsonObject[];
    return policies.map((policy) => ({
      name: String(policy.PolicyName),
      policy: resolve(policy.PolicyDocument ?? null),
    }));
  };

  /** The roles of the template, by logical id. */
  const roles = Object.entries(template.Resources)
    .filter(([, value]) => value.Type === 'AWS::IAM::Role')
    .map(([id]) => id);

  /** What the policies decide for one request of `role`'s session on an object of the uploads bucket. */
  async function decide(request: ObjectRequest): Promise<Decision> {
    const session = 'simulated-session';
    const tagKeys = (prefix: string, tags: Record<string, string> = {}) =>
      Object.fromEntries(Object.entries(tags).map(([key, value]) => [`${prefix}/${key}`, value]));
    const result = await runSimulation(
      {
        request: {
          principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${request.role}/${session}`,
          action: request.action,
          resource: {
            resource: `arn:aws:s3:::${bucketName('UploadsBucket')}/${request.key}`,
            accountId: ACCOUNT,
          },
          contextVariables: {
            'aws:PrincipalArn': roleArn(request.role),
            'aws:PrincipalAccount': ACCOUNT,
            'aws:userid': `${roleId(request.role)}:${session}`,
            'aws:SecureTransport': 'true',
            ...tagKeys('s3:ExistingObjectTag', request.existingTags),
            ...tagKeys('s3:RequestObjectTag', request.requestTags),
            ...(request.requestTags ? { 's3:RequestObjectTagKeys': Object.keys(request.requestTags) } : {}),
          },
        },
        identityPolicies:
          request.identityPolicy === undefined
            ? rolePolicies(request.role)
            : [{ name: 'granted-outside-the-stack', policy: request.identityPolicy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.withoutBucketPolicy ? {} : { resourcePolicy: uploadsBucketPolicy }),
      },
      {},
    );
    if (result.resultType !== 'single') {
      throw new Error(`simulation of ${request.action} did not run: ${JSON.stringify(result)}`);
    }
    return result.overallResult as Decision;
  }

  return { decide, roles, resolve };
}
