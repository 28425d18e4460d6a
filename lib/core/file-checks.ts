/**
 * The checks a file must pass before it is served, and how their results
 * make its one status. The content check is the validator's signed verdict;
 * the malware check is Amazon GuardDuty Malware Protection for S3's
 * `GuardDutyMalwareScanStatus` tag on the same version, required only when
 * the deployment scans (`MALWARE_SCAN=guardduty`).
 */

/** Whether uploads are scanned for malware: `guardduty` makes GuardDuty's verdict a second check. */
export type MalwareScanMode = 'none' | 'guardduty';
export const MALWARE_SCAN_MODES: readonly MalwareScanMode[] = ['none', 'guardduty'];

/** The tag GuardDuty Malware Protection for S3 writes on every object version it scanned. */
export const GUARDDUTY_SCAN_TAG = 'GuardDutyMalwareScanStatus';

/** The values GuardDuty writes in {@link GUARDDUTY_SCAN_TAG}. */
export const GUARDDUTY_SCAN_RESULTS = [
  'NO_THREATS_FOUND',
  'THREATS_FOUND',
  'UNSUPPORTED',
  'ACCESS_DENIED',
  'FAILED',
] as const;
export type GuardDutyScanResult = (typeof GUARDDUTY_SCAN_RESULTS)[number];

export type ContentCheck = 'passed' | 'failed' | 'pending';
/** `off`: the deployment does not scan; `unscannable`: GuardDuty could not say (too big, encrypted, denied, failed). */
export type MalwareCheck = 'clean' | 'infected' | 'unscannable' | 'pending' | 'off';

export interface FileChecks {
  content: ContentCheck;
  malware: MalwareCheck;
}

/** A file's status from every check it must pass, with the reason it failed. */
export interface CombinedStatus {
  status: ContentCheck;
  reason?: string;
}

/** Reasons a file fails on its malware check (a content failure keeps its own reason). */
export const MALWARE_REASONS = ['malware', 'unscannable'] as const;

/** The malware check a GuardDuty result stands for; anything else (no tag, a foreign value) is `pending`. */
export function malwareCheckOf(result: string | undefined): Exclude<MalwareCheck, 'off'> {
  switch (result) {
    case 'NO_THREATS_FOUND':
      return 'clean';
    case 'THREATS_FOUND':
      return 'infected';
    case 'UNSUPPORTED':
    case 'ACCESS_DENIED':
    case 'FAILED':
      return 'unscannable';
    default:
      return 'pending';
  }
}

/**
 * The one status of a file: `passed` only when every enabled check passed;
 * `failed` as soon as one failed, with the reason `malware` over
 * `unscannable` over the content check's own (so the final reason never
 * depends on which verdict came first); `pending` otherwise.
 */
export function combineChecks(checks: FileChecks, contentReason?: string): CombinedStatus {
  if (checks.malware === 'infected') return { status: 'failed', reason: 'malware' };
  if (checks.malware === 'unscannable') return { status: 'failed', reason: 'unscannable' };
  if (checks.content === 'failed') {
    return { status: 'failed', ...(contentReason !== undefined ? { reason: contentReason } : {}) };
  }
  if (checks.content === 'passed' && (checks.malware === 'clean' || checks.malware === 'off')) {
    return { status: 'passed' };
  }
  return { status: 'pending' };
}

/** Whether both checks are final: a file's webhook goes once its combined verdict can no longer change. */
export const checksFinal = (checks: FileChecks): boolean =>
  checks.content !== 'pending' && checks.malware !== 'pending';
