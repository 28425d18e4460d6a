// deploy/operations.cjs with a topic of the deployer's own (param alarmTopicArn): the alarms go
// there and the stack creates none. The packaged stack's alarms, with the topic it creates, are
// checked in cloudformation.test.ts.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const { operationsResources } = createRequire(import.meta.url)(join(ROOT, 'deploy', 'operations.cjs')) as {
  operationsResources(input: {
    functions: Record<string, string>;
    stackName: string;
    settings: Record<string, unknown>;
  }): { resources: Resources; outputs: Record<string, unknown> };
};

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops-pager';
const FUNCTIONS = {
  CreateUploadLambdaFunction: 'presign-prod-createUpload',
  SweepPendingLambdaFunction: 'presign-prod-sweepPending',
};

describe('operations with alarmTopicArn set', () => {
  const { resources, outputs } = operationsResources({
    functions: FUNCTIONS,
    stackName: 'presign-prod',
    settings: { alarmTopicArn: TOPIC, validatorBehindSeconds: '900' },
  });
  const alarms = Object.entries(resources).filter(([, value]) => value.Type === 'AWS::CloudWatch::Alarm');

  it('notifies that topic of every alarm, and creates none of its own', () => {
    expect(alarms).toHaveLength(2 * Object.keys(FUNCTIONS).length + 3);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([TOPIC]);
      expect(alarm.Properties.OKActions).toEqual([TOPIC]);
    }
    expect(Object.values(resources).filter((value) => value.Type === 'AWS::SNS::Topic')).toEqual([]);
    expect(outputs).toEqual({});
  });

  it('gives any function it is handed its two alarms, named after the deployed function', () => {
    expect(resources.SweepPendingErrorsAlarm?.Properties.AlarmName).toBe('presign-prod-sweepPending-errors');
    expect(resources.SweepPendingThrottlesAlarm?.Properties.Dimensions).toEqual([
      { Name: 'FunctionName', Value: { Ref: 'SweepPendingLambdaFunction' } },
    ]);
  });

  it('takes the validator’s lag threshold from validatorBehindSeconds', () => {
    expect(resources.ValidatorBehindAlarm?.Properties.Threshold).toBe(900);
  });
});
