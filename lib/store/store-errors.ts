/**
 * What the store refuses with, in its own terms: no HTTP here. The API layer
 * turns each into its answer (lib/http/store-refusals.ts); anything else the
 * store throws is a fault.
 */
export class StoreRefusal extends Error {}

/** No such file (or multipart upload) under this owner, which is also what another owner's id looks like. */
export class FileNotFound extends StoreRefusal {
  constructor(message = 'no such file') {
    super(message);
    this.name = 'FileNotFound';
  }
}

/** The file exists but its first version has not passed validation (`pending` or `failed`). */
export class FileNotPassed extends StoreRefusal {
  constructor(readonly status: string) {
    super(`file is ${status}, not passed validation`);
    this.name = 'FileNotPassed';
  }
}

/** The multipart upload was completed or aborted: it takes nothing more. */
export class UploadClosed extends StoreRefusal {
  constructor() {
    super('this upload was already completed or aborted');
    this.name = 'UploadClosed';
  }
}

/** S3 refused to complete a multipart upload with the parts it was given; the upload stays open. */
export class UploadIncomplete extends StoreRefusal {
  constructor(message: string) {
    super(message);
    this.name = 'UploadIncomplete';
  }
}

/** A compare-and-swap change kept losing to others until its deadline: the same change may succeed later. */
export class ChangeContended extends StoreRefusal {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'ChangeContended';
  }
}
