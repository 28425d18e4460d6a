import { createClient } from '@presign/client';
import { DropZone, useUpload } from '@presign/react';
import { createRoot } from 'react-dom/client';

/**
 * A small app on `@presign/react`: a heading and the drop zone. The host page
 * (index.html) says where the API is and whose token to send, as an app's
 * sign-in would.
 */
interface ExampleSettings {
  apiUrl: string;
  token: string;
  /** Files over this many bytes go multipart (the client's default: 100 MiB). */
  multipartThreshold?: number;
}

const settings = (window as unknown as { presignExample: ExampleSettings }).presignExample;
const client = createClient({
  apiUrl: settings.apiUrl,
  getToken: () => settings.token,
  ...(settings.multipartThreshold === undefined ? {} : { multipartThreshold: settings.multipartThreshold }),
});

function App() {
  const upload = useUpload({ client, concurrency: 2 });
  return (
    <main>
      <h1>Upload files</h1>
      <DropZone upload={upload} accept="image/png,image/jpeg,video/mp4,application/pdf" />
    </main>
  );
}

const root = document.getElementById('root');
if (!root) throw new Error('the page has no #root element');
createRoot(root).render(<App />);
