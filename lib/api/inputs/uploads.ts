// The input schemas of the routes that start uploads (what an input schema is: ./paths.ts).

export { createMultipartUploadInput, createUploadInput } from '../../uploads/upload-request.js';
