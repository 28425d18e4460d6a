import { createClient } from '@presign/client';

declare const session: { accessToken(): Promise<string> }; // your app's sign-in
const client = createClient({ apiUrl: 'https://api.example.com', getToken: () => session.accessToken() });
const input = document.getElementById('files') as HTMLInputElement;
const bar = document.getElementById('bar') as HTMLProgressElement;
const controller = new AbortController(); // controller.abort() cancels
input.addEventListener('change', async () => {
  for (const file of Array.from(input.files ?? [])) {
    const onProgress = ({ loaded, total }: { loaded: number; total: number }) => (bar.value = loaded / total);
    const fileId = await client.upload(file, {
      onProgress,
      signal: controller.signal,
      clientMetadata: { album: 'Summer' },
    });
    const { status, reason } = await client.waitForVerdict(fileId); // 'passed' or 'failed'
    console.log(file.name, status, reason ?? '');
  }
});
