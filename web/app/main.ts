/**
 * The upload page's script, bundled by esbuild into one classic script that
 * is inlined in the page and allowed by its hash in the CSP (see
 * web/build/page-script.cjs). It reads the upload rules from the
 * `#upload-rules` data block, refuses a file that breaks them before anything
 * is sent, asks the API for a presigned POST, sends the file straight to S3
 * (fields in order, `file` last) with upload progress, polls the validation
 * verdict, then fetches a download link and a share link. It writes text only
 * (no innerHTML): the CSP requires Trusted Types and allows none.
 */
import {
  ApiProblem,
  api,
  type DownloadLink,
  type FileRecord,
  type IssuedUpload,
  type ShareLink,
} from './api.js';
import { byId } from './dom.js';
import { formatBytes } from './format.js';
import { describeRules, parseRules, refusal } from './rules.js';
import { sendToStorage } from './storage.js';

const TOKEN_KEY = 'presign.token';
const POLL_SECONDS = 60;

const rules = parseRules(byId('upload-rules', HTMLScriptElement).textContent ?? '');
const form = byId('upload-form', HTMLFormElement);
const tokenInput = byId('token', HTMLInputElement);
const fileInput = byId('file', HTMLInputElement);
const button = byId('upload', HTMLButtonElement);
const errorBox = byId('error', HTMLElement);
const statusBox = byId('status', HTMLElement);
const progress = byId('progress', HTMLProgressElement);
const progressText = byId('progress-text', HTMLElement);
const verdict = byId('verdict', HTMLElement);
const results = byId('results', HTMLElement);
const allowedTypes = byId('allowed-types', HTMLElement);
const downloadLink = byId('download-link', HTMLAnchorElement);
const downloadExpiry = byId('download-expiry', HTMLElement);
const shareLink = byId('share-link', HTMLAnchorElement);
const shareExpiry = byId('share-expiry', HTMLElement);

const allowed = describeRules(rules);
allowedTypes.textContent = allowed;
fileInput.accept = Array.from(rules.keys()).join(',');

// The token lives in memory and in this tab's sessionStorage only.
try {
  tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || '';
} catch {}
tokenInput.addEventListener('input', () => {
  try {
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
  } catch {}
});

const showError = (message: string): void => {
  errorBox.textContent = message;
};
const say = (message: string): void => {
  statusBox.textContent = message;
};
const setVerdict = (status: string, text: string): void => {
  verdict.dataset.status = status;
  verdict.textContent = text;
};
const setProgress = (loaded: number, total: number): void => {
  const percent = total > 0 ? Math.round((loaded / total) * 100) : 0;
  progress.value = percent;
  progressText.textContent = `${percent}% (${formatBytes(loaded)} of ${formatBytes(total)})`;
};

const resetOutcome = (): void => {
  showError('');
  say('');
  setProgress(0, 0);
  progressText.textContent = 'Nothing sent yet.';
  setVerdict('none', 'not started');
  results.hidden = true;
};

/** The chosen file when the rules allow it; otherwise says why not (or nothing when none is chosen). */
const checkChosenFile = (): File | undefined => {
  const file = fileInput.files?.[0];
  if (!file) return undefined;
  const problem = refusal(file, rules, allowed);
  fileInput.setAttribute('aria-invalid', problem ? 'true' : 'false');
  if (problem) showError(problem);
  else say(`Ready to upload "${file.name}" (${formatBytes(file.size)}).`);
  return problem ? undefined : file;
};

fileInput.addEventListener('change', () => {
  resetOutcome();
  checkChosenFile();
});

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Polls GET /files/{fileId} until the validator has decided. */
const waitForVerdict = async (token: string, fileId: string): Promise<FileRecord> => {
  const deadline = Date.now() + POLL_SECONDS * 1000;
  let delay = 300;
  for (;;) {
    try {
      const file = await api<FileRecord>('GET', `files/${encodeURIComponent(fileId)}`, token);
      if (file.status !== 'pending') return file;
    } catch (error) {
      if (!(error instanceof ApiProblem) || error.status !== 404) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`Validation is still pending after ${POLL_SECONDS} s; check again later.`);
    await sleep(delay);
    delay = Math.min(delay * 1.5, 2000);
  }
};

const showLinks = (file: FileRecord, download: DownloadLink, share: ShareLink): void => {
  downloadLink.href = download.url;
  downloadLink.textContent = `Download ${file.filename}`;
  downloadExpiry.textContent = `(valid until ${new Date(download.expiresAt).toLocaleString()})`;
  shareLink.href = share.shareUrl;
  shareLink.textContent = share.shareUrl;
  shareExpiry.textContent = `(valid until ${new Date(share.expiresAt).toLocaleString()})`;
  results.hidden = false;
};

const run = async (token: string, file: File): Promise<void> => {
  say('Asking for an upload URL…');
  const issued = await api<IssuedUpload>('POST', 'uploads', token, {
    filename: file.name,
    contentType: file.type.toLowerCase(),
    size: file.size,
  });
  say(`Uploading "${file.name}" to storage…`);
  await sendToStorage(issued.upload, file, setProgress);
  setVerdict('pending', 'pending');
  say('Uploaded. Validation: pending.');
  const checked = await waitForVerdict(token, issued.fileId);
  if (checked.status !== 'passed') {
    setVerdict(checked.status, checked.status + (checked.reason ? ` (${checked.reason})` : ''));
    say(`Validation: ${checked.status}.`);
    showError(
      `The file failed validation${checked.reason ? `: ${checked.reason}` : ''}. It will not be served.`,
    );
    return;
  }
  setVerdict('passed', 'passed');
  say('Validation: passed. Creating links…');
  const fileUrl = `files/${encodeURIComponent(issued.fileId)}`;
  const [download, share] = await Promise.all([
    api<DownloadLink>('POST', `${fileUrl}/download-url`, token, {}),
    api<ShareLink>('POST', `${fileUrl}/shares`, token, {}),
  ]);
  showLinks(checked, download, share);
  say('Validation: passed. Download and share links are ready.');
};

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  resetOutcome();
  const token = tokenInput.value.trim();
  if (!token) {
    showError('Paste an access token first.');
    tokenInput.focus();
    return;
  }
  if (!fileInput.files?.[0]) {
    showError('Choose a file first.');
    fileInput.focus();
    return;
  }
  const file = checkChosenFile();
  if (!file) return;
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    await run(token, file);
  } catch (error) {
    say('');
    if (verdict.dataset.status === 'none') progressText.textContent = 'Not uploaded.';
    showError(error instanceof Error ? error.message : String(error));
    if (error instanceof ApiProblem && error.status === 401) tokenInput.focus();
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
});
