/**
 * The page's script: plain browser JavaScript, inlined and allowed by its hash
 * in the CSP. It reads the upload rules from the `#upload-rules` data block,
 * refuses a file that breaks them before anything is sent, asks the API for a
 * presigned POST, sends the file straight to S3 (fields in order, `file`
 * last) with upload progress, polls the validation verdict, then fetches a
 * download link and a share link. It writes text only (no innerHTML).
 *
 * Kept as a raw string so that esbuild bundles it into the Lambda with no
 * file-system read at run time; it must not contain a backtick or dollar-brace.
 */
export const APP_SCRIPT = String.raw`
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const rules = new Map(Object.entries(JSON.parse($('upload-rules').textContent)));
  const form = $('upload-form');
  const tokenInput = $('token');
  const fileInput = $('file');
  const button = $('upload');
  const errorBox = $('error');
  const statusBox = $('status');
  const progress = $('progress');
  const progressText = $('progress-text');
  const verdict = $('verdict');
  const results = $('results');
  const TOKEN_KEY = 'presign.token';
  const POLL_SECONDS = 60;

  const formatBytes = (n) => {
    const units = ['bytes', 'KiB', 'MiB', 'GiB'];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit === 0 ? String(value) : value.toFixed(value < 10 ? 1 : 0).replace(/\.0$/, '')) + ' ' + units[unit];
  };
  const allowed = Array.from(rules, ([type, max]) => type + ' up to ' + formatBytes(max)).join(', ');
  $('allowed-types').textContent = allowed;
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

  const showError = (message) => {
    errorBox.textContent = message;
  };
  const say = (message) => {
    statusBox.textContent = message;
  };
  const setVerdict = (status, text) => {
    verdict.dataset.status = status;
    verdict.textContent = text;
  };
  const setProgress = (loaded, total) => {
    const percent = total > 0 ? Math.round((loaded / total) * 100) : 0;
    progress.value = percent;
    progressText.textContent = percent + '% (' + formatBytes(loaded) + ' of ' + formatBytes(total) + ')';
  };

  /** Why this file may not be uploaded, or undefined when the rules allow it. */
  const refusal = (file) => {
    const type = (file.type || '').toLowerCase();
    if (!type) return 'Refused: the type of "' + file.name + '" is unknown. Accepted: ' + allowed + '.';
    const max = rules.get(type);
    if (max === undefined) return 'Refused: "' + file.name + '" is ' + type + ', which is not accepted. Accepted: ' + allowed + '.';
    if (file.size === 0) return 'Refused: "' + file.name + '" is empty.';
    if (file.size > max) {
      return 'Refused: "' + file.name + '" is ' + formatBytes(file.size) + ', over the ' + formatBytes(max) + ' limit for ' + type + '.';
    }
    return undefined;
  };

  const resetOutcome = () => {
    showError('');
    say('');
    setProgress(0, 0);
    progressText.textContent = 'Nothing sent yet.';
    setVerdict('none', 'not started');
    results.hidden = true;
  };

  const checkChosenFile = () => {
    const file = fileInput.files[0];
    if (!file) return undefined;
    const problem = refusal(file);
    fileInput.setAttribute('aria-invalid', problem ? 'true' : 'false');
    if (problem) showError(problem);
    else say('Ready to upload "' + file.name + '" (' + formatBytes(file.size) + ').');
    return problem ? undefined : file;
  };

  fileInput.addEventListener('change', () => {
    resetOutcome();
    checkChosenFile();
  });

  class ApiProblem extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** Calls this API (relative to the page, so a stage prefix still works). */
  const api = async (method, path, token, body) => {
    const headers = { authorization: 'Bearer ' + token };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(new URL(path, document.baseURI), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
    let data;
    try {
      data = await response.json();
    } catch {}
    if (!response.ok) {
      const error = (data && data.error) || {};
      if (response.status === 401) {
        throw new ApiProblem(401, 'unauthorized', 'The token was refused (missing, expired or not for this API). Make a new one with: npm run token -- <you>');
      }
      throw new ApiProblem(response.status, error.code || 'http_' + response.status, error.message || 'The API answered ' + response.status + '.');
    }
    return data;
  };

  /** Posts the presigned form to S3: every field in order, then the file last. */
  const sendToStorage = (upload, file) =>
    new Promise((resolve, reject) => {
      const body = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) body.append(name, value);
      body.append('file', file);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', upload.url);
      xhr.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) setProgress(event.loaded, event.total);
      });
      xhr.addEventListener('load', () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve();
          return;
        }
        const code = /<Code>([^<]*)<\/Code>/.exec(xhr.responseText || '');
        reject(new Error('Storage refused the upload (' + xhr.status + (code ? ' ' + code[1] : '') + ').'));
      });
      xhr.addEventListener('error', () => reject(new Error('The upload did not reach storage (network error).')));
      xhr.addEventListener('abort', () => reject(new Error('The upload was aborted.')));
      xhr.send(body);
    });

  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

  /** Polls GET /files/{fileId} until the validator has decided. */
  const waitForVerdict = async (token, fileId) => {
    const deadline = Date.now() + POLL_SECONDS * 1000;
    let delay = 300;
    for (;;) {
      try {
        const file = await api('GET', 'files/' + encodeURIComponent(fileId), token);
        if (file.status !== 'pending') return file;
      } catch (error) {
        if (!(error instanceof ApiProblem) || error.status !== 404) throw error;
      }
      if (Date.now() > deadline) throw new Error('Validation is still pending after ' + POLL_SECONDS + ' s; check again later.');
      await sleep(delay);
      delay = Math.min(delay * 1.5, 2000);
    }
  };

  const showLinks = (file, download, share) => {
    const downloadLink = $('download-link');
    downloadLink.href = download.url;
    downloadLink.textContent = 'Download ' + file.filename;
    $('download-expiry').textContent = '(valid until ' + new Date(download.expiresAt).toLocaleString() + ')';
    const shareLink = $('share-link');
    shareLink.href = share.shareUrl;
    shareLink.textContent = share.shareUrl;
    $('share-expiry').textContent = '(valid until ' + new Date(share.expiresAt).toLocaleString() + ')';
    results.hidden = false;
  };

  const run = async (token, file) => {
    say('Asking for an upload URL…');
    const issued = await api('POST', 'uploads', token, { filename: file.name, contentType: file.type.toLowerCase(), size: file.size });
    say('Uploading "' + file.name + '" to storage…');
    await sendToStorage(issued.upload, file);
    setVerdict('pending', 'pending');
    say('Uploaded. Validation: pending.');
    const checked = await waitForVerdict(token, issued.fileId);
    if (checked.status !== 'passed') {
      setVerdict(checked.status, checked.status + (checked.reason ? ' (' + checked.reason + ')' : ''));
      say('Validation: ' + checked.status + '.');
      showError('The file failed validation' + (checked.reason ? ': ' + checked.reason : '') + '. It will not be served.');
      return;
    }
    setVerdict('passed', 'passed');
    say('Validation: passed. Creating links…');
    const [download, share] = await Promise.all([
      api('POST', 'files/' + encodeURIComponent(issued.fileId) + '/download-url', token, {}),
      api('POST', 'files/' + encodeURIComponent(issued.fileId) + '/shares', token, {}),
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
    if (!fileInput.files[0]) {
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
})();
`;
