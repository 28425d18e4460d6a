// Which running stack the bench reuses: from the settings its stack.json records.
import { describe, expect, it } from 'vitest';
import { benchStackPorts, describeStack, misfit, SECTIONS } from '../../../bench/stack-fit.js';
import type { StackInfo } from '../../../scripts/stack-settings.js';

const STACK: StackInfo = {
  apiUrl: 'http://127.0.0.1:3000',
  s3Endpoint: 'http://127.0.0.1:7481',
  rgwEndpoint: 'http://127.0.0.1:7480',
  bucket: 'presign-local-uploads',
  stateBucket: 'presign-local-state',
  region: 'us-east-1',
  pid: 1,
  validatorFunction: 'presign-local-validateUpload',
  lambdaUrl: 'http://127.0.0.1:3002',
  delivererFunction: 'presign-local-deliverWebhook',
  webhookUrl: null,
  malwareScan: 'none',
  limits: { quotaBytesPerOwner: null, uploadsPerHourPerOwner: null },
};
/** The stack `npm test` starts, and the README's own example: limits and webhooks set. */
const LIMITED: StackInfo = {
  ...STACK,
  webhookUrl: 'http://127.0.0.1:3011/hooks',
  limits: { quotaBytesPerOwner: 2_000_000_000, uploadsPerHourPerOwner: 250 },
};

describe('whether a running stack fits the bench', () => {
  it('takes a stack without limits for every section, webhooks or not', () => {
    // Act / Assert
    expect(misfit(STACK, SECTIONS)).toBeUndefined();
    expect(misfit({ ...STACK, webhookUrl: 'http://127.0.0.1:3011/hooks' }, SECTIONS)).toBeUndefined();
  });

  it('refuses a stack with limits for the sections that send uploads through its API, naming both', () => {
    // Act
    const why = misfit(LIMITED, SECTIONS);

    // Assert
    expect(why).toBe(
      'QUOTA_BYTES_PER_OWNER=2000000000 and UPLOADS_PER_HOUR_PER_OWNER=250 (upload, download, requests, verdicts, load, multipart need limits unset)',
    );
  });

  it('takes a stack with limits for the sections that configure their functions themselves', () => {
    // Act / Assert
    expect(misfit(LIMITED, ['cold', 'limits', 'validator'])).toBeUndefined();
  });

  it('names only the limit that is set', () => {
    // Arrange
    const quotaOnly = {
      ...STACK,
      limits: { quotaBytesPerOwner: 10_737_418_240, uploadsPerHourPerOwner: null },
    };

    // Act / Assert
    expect(misfit(quotaOnly, ['multipart'])).toBe(
      'QUOTA_BYTES_PER_OWNER=10737418240 (multipart need limits unset)',
    );
  });

  it('refuses a stack with the malware scan for the sections that measure the default', () => {
    // Act
    const why = misfit({ ...STACK, malwareScan: 'guardduty' }, ['validator', 'cold', 'limits']);

    // Assert
    expect(why).toBe('MALWARE_SCAN=guardduty (validator need none)');
  });

  it('takes a stack.json written before limits existed as one without them', () => {
    // Arrange
    const { limits: _limits, ...older } = STACK;

    // Act / Assert
    expect(misfit(older as StackInfo, SECTIONS)).toBeUndefined();
  });

  it('describes a stack by its settings', () => {
    // Act / Assert
    expect(describeStack(LIMITED)).toBe(
      'QUOTA_BYTES_PER_OWNER=2000000000 UPLOADS_PER_HOUR_PER_OWNER=250, webhooks to http://127.0.0.1:3011/hooks, MALWARE_SCAN=none',
    );
    expect(describeStack(STACK)).toBe('no limits, no webhooks, MALWARE_SCAN=none');
  });
});

describe("a stack of the bench's own", () => {
  it('listens on none of the ports of the stack beside it, nor of the malware tests’ second stack', () => {
    // Arrange
    const settings = { httpPort: 3000, lambdaPort: 3002, bridgePort: 3010, rgwPort: 7480 };
    const taken = [3000, 3002, 3010, 3011, 7480, 7481, 46789, 3020, 3022, 3030, 7490, 7491, 46799];

    // Act
    const ports = Object.values(benchStackPorts(settings, 46789)).map(Number);

    // Assert
    expect(ports.filter((port) => taken.includes(port))).toEqual([]);
    expect(new Set(ports).size).toBe(ports.length);
  });
});
