import { GUARDDUTY_SCAN_RESULTS, type GuardDutyScanResult } from '../core/file-checks.js';
import * as z from '../core/zod.js';

/** The EventBridge `detail-type` of GuardDuty Malware Protection for S3's result on one object. */
export const SCAN_RESULT_DETAIL_TYPE = 'GuardDuty Malware Protection Object Scan Result';

const scanResultEventSchema = z.object({
  source: z.literal('aws.guardduty'),
  'detail-type': z.literal(SCAN_RESULT_DETAIL_TYPE),
  detail: z.object({
    scanStatus: z.string(),
    resourceType: z.literal('S3_OBJECT'),
    s3ObjectDetails: z.object({
      bucketName: z.string().check(z.minLength(1)),
      objectKey: z.string().check(z.minLength(1)),
      eTag: z.optional(z.string()),
      versionId: z.optional(z.string()),
    }),
    scanResultDetails: z.nullish(z.object({ scanResultStatus: z.nullish(z.string()) })),
  }),
});

/** What the validator takes from one scan result: the version scanned and GuardDuty's verdict on it. */
export interface ScanResult {
  bucket: string;
  key: string;
  versionId?: string;
  eTag?: string;
  result: GuardDutyScanResult;
}

/**
 * Reads GuardDuty's scan-result event as EventBridge delivers it; `undefined`
 * for any other event. A result missing or outside
 * GuardDuty's documented values (a scan that could not complete), reads as `FAILED` (unscannable, never clean).
 */
export function parseScanResultEvent(event: unknown): ScanResult | undefined {
  const parsed = scanResultEventSchema.safeParse(event);
  if (!parsed.success) return undefined;
  const { s3ObjectDetails: object, scanResultDetails } = parsed.data.detail;
  const reported = scanResultDetails?.scanResultStatus ?? undefined;
  const result = GUARDDUTY_SCAN_RESULTS.find((value) => value === reported);
  return {
    bucket: object.bucketName,
    key: object.objectKey,
    ...(object.versionId ? { versionId: object.versionId } : {}),
    ...(object.eTag ? { eTag: object.eTag } : {}),
    result: result ?? 'FAILED',
  };
}
