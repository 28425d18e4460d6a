import { describe, expect, it } from 'vitest';
import { apiErrorOfStoreRefusal } from '../../../lib/http/store-refusals.js';
import {
  ChangeContended,
  FileNotFound,
  FileNotPassed,
  UploadClosed,
  UploadIncomplete,
} from '../../../lib/store/store-errors.js';

describe('the API’s answer to each refusal of the store', () => {
  it.each([
    [new FileNotFound(), { statusCode: 404, code: 'not_found', message: 'no such file' }],
    [new FileNotFound('no such upload'), { statusCode: 404, code: 'not_found', message: 'no such file' }],
    [
      new FileNotPassed('failed'),
      { statusCode: 409, code: 'not_validated', message: 'file is failed, not passed validation' },
    ],
    [new UploadClosed(), { statusCode: 409, code: 'upload_closed' }],
    [
      new UploadIncomplete('part 3 is missing'),
      { statusCode: 422, code: 'incomplete_upload', message: 'part 3 is missing' },
    ],
    [
      new ChangeContended('busy', 1),
      { statusCode: 429, code: 'rate_limited', headers: { 'retry-after': '1' } },
    ],
  ])('%o answers %o', (refusal, answer) => {
    expect(apiErrorOfStoreRefusal(refusal)).toMatchObject({ ...answer, expose: true });
  });

  it('leaves anything else to be a fault (500)', () => {
    expect(apiErrorOfStoreRefusal(new Error('connection reset'))).toBeUndefined();
    expect(apiErrorOfStoreRefusal('not an error')).toBeUndefined();
  });
});
