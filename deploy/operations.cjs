// A local serverless plugin: what tells an operator of trouble, added to the packaged template once
// the functions are compiled, so every function serverless.yml declares (a new one included) gets
// its alarms without a list to keep up to date (docs/operations.md):
//   - an alarm on each function's Errors and on its Throttles (any in five minutes);
//   - an alarm on each dead-letter queue holding a message (UploadValidationDlq, WebhookDeadLetterQueue);
//   - an alarm on the validator falling behind: the oldest upload event waiting in UploadEventsQueue
//     older than param validatorBehindSeconds for three minutes running;
// each notifying (and notifying again when it is OK) the SNS topic param alarmTopicArn names, or
// one the stack creates (output AlarmTopicArn) when it is empty; and a CloudWatch dashboard.
// Settings come from serverless.yml's custom.operations (params resolved by osls).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${…} here are CloudFormation Fn::Sub placeholders.

/** The dead-letter queues of the stack, by logical ID, and the one queue the validator drains. */
const DEAD_LETTER_QUEUES = ['UploadValidationDlq', 'WebhookDeadLetterQueue'];
const UPLOAD_EVENTS_QUEUE = 'UploadEventsQueue';
const CREATED_TOPIC = 'AlarmTopic';
/** Function alarms look at five-minute sums: one error or throttle is news. */
const FUNCTION_PERIOD_SECONDS = 300;
const QUEUE_PERIOD_SECONDS = 60;
const BEHIND_MINUTES = 3;

/** One alarm on `metric` above `threshold`, notifying `topic` when it fires and when it clears. */
function alarm({
  name,
  description,
  namespace,
  metric,
  dimensions,
  statistic,
  period,
  threshold,
  evaluations,
  topic,
}) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: name,
      AlarmDescription: description,
      Namespace: namespace,
      MetricName: metric,
      Dimensions: dimensions,
      Statistic: statistic,
      Period: period,
      EvaluationPeriods: evaluations,
      DatapointsToAlarm: evaluations,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      // No data is no trouble: a function nobody called, a queue nothing reached.
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
      OKActions: [topic],
    },
  };
}

/**
 * The operations resources of a stack: `functions` maps each function's logical ID to its
 * deployed name; `stackName` prefixes alarm names; `settings` is custom.operations.
 */
function operationsResources({ functions, stackName, settings }) {
  const topicArn = String(settings.alarmTopicArn ?? '').trim();
  const behindSeconds = Number(settings.validatorBehindSeconds);
  const topic = topicArn || { Ref: CREATED_TOPIC };
  const resources = {};
  const outputs = {};
  if (!topicArn) {
    resources[CREATED_TOPIC] = {
      Type: 'AWS::SNS::Topic',
      Properties: { TopicName: `${stackName}-alarms`, DisplayName: `${stackName} alarms` },
    };
    outputs.AlarmTopicArn = {
      Description: 'Subscribe to hear of every alarm',
      Value: { Ref: CREATED_TOPIC },
    };
  }
  for (const [logicalId, functionName] of Object.entries(functions)) {
    const base = logicalId.replace(/LambdaFunction$/, '');
    for (const [metric, what] of [
      ['Errors', 'failed (an error, a timeout or a crash)'],
      ['Throttles', 'was throttled (no concurrency left)'],
    ]) {
      resources[`${base}${metric}Alarm`] = alarm({
        name: `${functionName}-${metric.toLowerCase()}`,
        description: `${functionName} ${what} at least once in five minutes: its log group says why`,
        namespace: 'AWS/Lambda',
        metric,
        dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId } }],
        statistic: 'Sum',
        period: FUNCTION_PERIOD_SECONDS,
        threshold: 0,
        evaluations: 1,
        topic,
      });
    }
  }
  for (const queue of DEAD_LETTER_QUEUES) {
    resources[`${queue}MessagesAlarm`] = alarm({
      name: `${stackName}-${queue}-messages`,
      description: `${queue} holds a message nothing could handle: read it, fix the cause, then npm run redrive`,
      namespace: 'AWS/SQS',
      metric: 'ApproximateNumberOfMessagesVisible',
      dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      statistic: 'Maximum',
      period: QUEUE_PERIOD_SECONDS,
      threshold: 0,
      evaluations: 1,
      topic,
    });
  }
  resources.ValidatorBehindAlarm = alarm({
    name: `${stackName}-validator-behind`,
    description: `The oldest upload event has waited over ${behindSeconds} s for the validator for ${BEHIND_MINUTES} minutes: files stay pending`,
    namespace: 'AWS/SQS',
    metric: 'ApproximateAgeOfOldestMessage',
    dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [UPLOAD_EVENTS_QUEUE, 'QueueName'] } }],
    statistic: 'Maximum',
    period: QUEUE_PERIOD_SECONDS,
    threshold: behindSeconds,
    evaluations: BEHIND_MINUTES,
    topic,
  });
  resources.OperationsDashboard = dashboard({ functions: Object.values(functions), stackName });
  return { resources, outputs };
}

/**
 * A CloudWatch dashboard of the stack: errors, throttles and duration of every function; the
 * upload-events queue's depth and age; both dead-letter queues; the HTTP API's 4xx and 5xx.
 */
function dashboard({ functions, stackName }) {
  const region = '${AWS::Region}';
  const api = '${HttpApi}';
  const queueName = (queue) => `\${${queue}.QueueName}`;
  const perFunction = (metric, stat) =>
    functions.map((name) => ['AWS/Lambda', metric, 'FunctionName', name, { stat }]);
  const widget = (title, metrics, y, x = 0) => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region, metrics, period: 300, view: 'timeSeries', stacked: false },
  });
  const widgets = [
    widget('Function errors', perFunction('Errors', 'Sum'), 0, 0),
    widget('Function throttles', perFunction('Throttles', 'Sum'), 0, 12),
    widget('Function duration (p99, ms)', perFunction('Duration', 'p99'), 6, 0),
    widget(
      'Validator: upload events waiting, and the oldest one’s age (s)',
      [
        [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          queueName(UPLOAD_EVENTS_QUEUE),
          { stat: 'Maximum' },
        ],
        [
          'AWS/SQS',
          'ApproximateAgeOfOldestMessage',
          'QueueName',
          queueName(UPLOAD_EVENTS_QUEUE),
          { stat: 'Maximum', yAxis: 'right' },
        ],
      ],
      6,
      12,
    ),
    widget(
      'Dead-letter queues (messages)',
      DEAD_LETTER_QUEUES.map((queue) => [
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        queueName(queue),
        { stat: 'Maximum' },
      ]),
      12,
      0,
    ),
    widget(
      'HTTP API answers',
      [
        ['AWS/ApiGateway', '4xx', 'ApiId', api, { stat: 'Sum' }],
        ['AWS/ApiGateway', '5xx', 'ApiId', api, { stat: 'Sum' }],
        ['AWS/ApiGateway', 'Count', 'ApiId', api, { stat: 'Sum', yAxis: 'right' }],
      ],
      12,
      12,
    ),
  ];
  return {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: {
      DashboardName: stackName,
      DashboardBody: { 'Fn::Sub': JSON.stringify({ widgets }) },
    },
  };
}

class Operations {
  constructor(serverless) {
    this.hooks = {
      'package:compileEvents': () => {
        const aws = serverless.getProvider('aws');
        const template = serverless.service.provider.compiledCloudFormationTemplate;
        const functions = Object.fromEntries(
          serverless.service
            .getAllFunctions()
            .map((name) => [aws.naming.getLambdaLogicalId(name), serverless.service.getFunction(name).name]),
        );
        const { resources, outputs } = operationsResources({
          functions,
          stackName: aws.naming.getStackName(),
          settings: serverless.service.custom?.operations ?? {},
        });
        Object.assign(template.Resources, resources);
        template.Outputs = { ...template.Outputs, ...outputs };
      },
    };
  }
}

module.exports = Operations;
module.exports.operationsResources = operationsResources;
