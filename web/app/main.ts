/**
 * The upload page's script, bundled by esbuild into one classic script that
 * is inlined in the page and allowed by its hash in the CSP (see
 * web/build/page-script.cjs). It runs on the client library (client/src):
 * files chosen or dropped are checked against the upload rules (the
 * `#upload-rules` data block) before anything is sent, queued, uploaded with
 * progress (a form POST, or a resumable multipart upload for large files;
 * files started together get their forms from one request), and followed to
 * their verdicts; "My files" lists the caller's files with
 * download, share, revoke and delete. It writes text only (no innerHTML): the
 * CSP requires Trusted Types and allows none.
 */
import { createClient } from '../../client/src/index.js';
import { byId } from './dom.js';
import { isTokenProblem, problemText } from './messages.js';
import { MyFiles, showResumable } from './my-files.js';
import { describeRules, parseRules, refusal } from './rules.js';
import { UploadQueue } from './upload-queue.js';

const TOKEN_KEY = 'presign.token';

const rules = parseRules(byId('upload-rules', HTMLScriptElement).textContent ?? '');
const form = byId('upload-form', HTMLFormElement);
const tokenInput = byId('token', HTMLInputElement);
const fileInput = byId('files', HTMLInputElement);
const dropZone = byId('drop-zone', HTMLElement);
const errorBox = byId('error', HTMLElement);
const statusBox = byId('status', HTMLElement);
const allowedTypes = byId('allowed-types', HTMLElement);
const queueList = byId('queue', HTMLUListElement);
const queueEmpty = byId('queue-empty', HTMLElement);
const resumable = byId('resumable', HTMLElement);
const resumableList = byId('resumable-list', HTMLUListElement);
const fileList = byId('file-list', HTMLUListElement);
const filesNote = byId('files-note', HTMLElement);
const refreshButton = byId('refresh-files', HTMLButtonElement);
const moreButton = byId('more-files', HTMLButtonElement);

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
const token = () => tokenInput.value.trim();

const announce = (message: string): void => {
  statusBox.textContent = message;
};
const showError = (error: unknown): void => {
  errorBox.textContent = problemText(error);
  if (isTokenProblem(error)) tokenInput.focus();
};

// The API is this page's own origin and path (a stage prefix included).
const client = createClient({ apiUrl: new URL('.', document.baseURI).href, getToken: token });

const myFiles = new MyFiles({ client, list: fileList, note: filesNote, moreButton, announce, showError });
const refreshResumable = () => showResumable(client, resumable, resumableList, showError);
const queue = new UploadQueue({
  client,
  list: queueList,
  announce,
  showError,
  changed: () => {
    queueEmpty.hidden = queue.size > 0;
    void refreshResumable();
    if (token()) void myFiles.load();
  },
});

/** Queues files; those the rules refuse are shown refused at once, and the first reason is said. */
function addFiles(files: Iterable<File>): void {
  errorBox.textContent = '';
  const refusals: string[] = [];
  let added = 0;
  for (const file of files) {
    const problem = refusal(file, rules, allowed);
    if (problem) refusals.push(problem);
    queue.add(file, problem);
    added += 1;
  }
  if (added === 0) return;
  queueEmpty.hidden = true;
  fileInput.setAttribute('aria-invalid', refusals.length > 0 ? 'true' : 'false');
  if (refusals.length > 0) errorBox.textContent = refusals.join(' ');
  const ready = added - refusals.length;
  announce(`${ready} of ${added} file${added === 1 ? '' : 's'} ready to upload. Press Upload to send.`);
}

fileInput.addEventListener('change', () => {
  addFiles(Array.from(fileInput.files ?? []));
  fileInput.value = '';
});

for (const type of ['dragenter', 'dragover'] as const)
  dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    dropZone.dataset.dragging = 'true';
  });
dropZone.addEventListener('dragleave', () => {
  dropZone.dataset.dragging = 'false';
});
dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.dataset.dragging = 'false';
  addFiles(Array.from(event.dataTransfer?.files ?? []));
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  errorBox.textContent = '';
  if (!token()) {
    errorBox.textContent = 'Paste an access token first.';
    tokenInput.focus();
    return;
  }
  if (!queue.hasReady()) {
    errorBox.textContent = queue.size === 0 ? 'Choose files first.' : 'No file is ready to upload.';
    fileInput.focus();
    return;
  }
  queue.startReady();
});

tokenInput.addEventListener('change', () => {
  if (token()) void myFiles.load();
});
refreshButton.addEventListener('click', () => {
  if (!token()) {
    errorBox.textContent = 'Paste an access token first.';
    tokenInput.focus();
    return;
  }
  void myFiles.load();
});
moreButton.addEventListener('click', () => void myFiles.load(true));

void refreshResumable();
if (token()) void myFiles.load();
