// node upload.mjs <file> <content-type>, with API_URL and TOKEN in the environment
import { openAsBlob, statSync } from 'node:fs';
import { basename } from 'node:path';
import { createClient } from '@presign/client';
import { fileResumeStore } from '@presign/client/node';

const [path, type] = process.argv.slice(2);
const client = createClient({
  apiUrl: process.env.API_URL,
  getToken: () => process.env.TOKEN,
  resumeStore: fileResumeStore('.uploads'), // a killed run resumes where it stopped
});
const data = await openAsBlob(path); // read part by part as it is sent
const fileId = await client.upload(
  { data, name: basename(path), type, lastModified: statSync(path).mtimeMs },
  { onProgress: ({ loaded, total }) => console.error(`${Math.floor((100 * loaded) / total)}%`) },
);
const file = await client.waitForVerdict(fileId);
if (file.status !== 'passed') throw new Error(`${path} failed validation: ${file.reason}`);
console.log((await client.downloadUrl(fileId)).url);
