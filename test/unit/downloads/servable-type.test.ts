import { describe, expect, it } from 'vitest';
import { servableType } from '../../../lib/downloads/servable-type.js';
import type { FileRecord } from '../../../lib/store/verdict-trust.js';

/** A passed record of `contentType` in which the validator found `detectedType`. */
function passed(contentType: string, detectedType: string | undefined): FileRecord {
  return {
    key: 'uploads/0123456789abcdef0123456789abcdef/01JD0000000000000000000000',
    versionId: 'v1',
    fileId: '01JD0000000000000000000000',
    filename: 'f',
    clientMetadata: null,
    contentType,
    size: 100,
    uploadedAt: '2026-11-23T09:00:00.000Z',
    storedBytes: 1,
    eTag: 'e1',
    status: 'passed',
    checks: { content: 'passed', malware: 'off' },
    validatedEtag: 'e1',
    ...(detectedType !== undefined ? { detectedType } : {}),
  };
}

/** The 409 a caller sees, or `undefined` when the file is served. */
function refusal(record: FileRecord): { statusCode: number; code: string } | undefined {
  try {
    servableType(record);
    return undefined;
  } catch (error) {
    const { statusCode, code } = error as { statusCode: number; code: string };
    return { statusCode, code };
  }
}

describe('servableType', () => {
  it.each([
    ['image/png', 'image/png'],
    ['image/png', 'image/apng'],
    ['image/jpeg', 'image/jpeg'],
    ['application/pdf', 'application/pdf'],
    ['text/plain', 'text/plain'],
    ['text/csv', 'text/plain'],
    ['application/zip', 'application/zip'],
  ])('serves %s, detected as %s, as its declared type', (declared, detected) => {
    expect(servableType(passed(declared, detected))).toBe(declared);
  });

  it('serves a passed file with no recorded detected type as declared', () => {
    expect(servableType(passed('image/png', undefined))).toBe('image/png');
  });

  it.each([
    ['image/png', 'image/jpeg'],
    ['image/jpeg', 'image/apng'],
    ['text/csv', 'application/pdf'],
    ['application/pdf', 'text/plain'],
    ['application/zip', 'application/x-7z-compressed'],
  ])('refuses %s detected as %s with 409 not_validated', (declared, detected) => {
    expect(refusal(passed(declared, detected))).toEqual({ statusCode: 409, code: 'not_validated' });
  });

  it.each(['pending', 'failed'] as const)('refuses a %s file with 409 not_validated', (status) => {
    expect(refusal({ ...passed('image/png', 'image/png'), status })).toEqual({
      statusCode: 409,
      code: 'not_validated',
    });
  });

  it.each([
    ['application/xml', 'application/xml'],
    ['text/html', undefined],
  ])('never serves %s, a type a browser would execute, even marked passed', (declared, detected) => {
    expect(refusal(passed(declared, detected))).toEqual({ statusCode: 409, code: 'not_validated' });
  });
});
