import { describe, expect, it } from 'vitest';
import {
  type ContentCheck,
  checksFinal,
  combineChecks,
  type MalwareCheck,
  malwareCheckOf,
} from '../../../lib/core/file-checks.js';

describe('malwareCheckOf', () => {
  it.each([
    ['NO_THREATS_FOUND', 'clean'],
    ['THREATS_FOUND', 'infected'],
    ['UNSUPPORTED', 'unscannable'],
    ['ACCESS_DENIED', 'unscannable'],
    ['FAILED', 'unscannable'],
    [undefined, 'pending'],
    ['no_threats_found', 'pending'],
    ['', 'pending'],
  ])('reads GuardDuty’s %s as %s', (tag, check) => {
    expect(malwareCheckOf(tag)).toBe(check);
  });
});

describe('combineChecks', () => {
  const cases: [ContentCheck, MalwareCheck, string, string | undefined][] = [
    ['passed', 'off', 'passed', undefined],
    ['failed', 'off', 'failed', 'type_mismatch'],
    ['pending', 'off', 'pending', undefined],
    ['pending', 'pending', 'pending', undefined],
    ['pending', 'clean', 'pending', undefined],
    ['passed', 'pending', 'pending', undefined],
    ['passed', 'clean', 'passed', undefined],
    ['passed', 'infected', 'failed', 'malware'],
    ['pending', 'infected', 'failed', 'malware'],
    ['failed', 'infected', 'failed', 'malware'],
    ['passed', 'unscannable', 'failed', 'unscannable'],
    ['failed', 'unscannable', 'failed', 'unscannable'],
    ['failed', 'pending', 'failed', 'type_mismatch'],
    ['failed', 'clean', 'failed', 'type_mismatch'],
  ];
  it.each(cases)('content %s and malware %s make %s (%s)', (content, malware, status, reason) => {
    const combined = combineChecks({ content, malware }, content === 'failed' ? 'type_mismatch' : undefined);
    expect(combined).toEqual({ status, ...(reason ? { reason } : {}) });
  });

  it('is final only once both checks are', () => {
    expect(checksFinal({ content: 'passed', malware: 'pending' })).toBe(false);
    expect(checksFinal({ content: 'pending', malware: 'clean' })).toBe(false);
    expect(checksFinal({ content: 'failed', malware: 'infected' })).toBe(true);
    expect(checksFinal({ content: 'passed', malware: 'off' })).toBe(true);
  });
});
