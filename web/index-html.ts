/** What {@link indexHtml} fills in; every part must already be safe for its place. */
export interface PageParts {
  /** The stylesheet, placed in a `<style>` element. */
  style: string;
  /** The upload rules as JSON escaped for a `<script>` data block. */
  rulesJson: string;
  /** The page's script, placed in a classic inline `<script>`. */
  script: string;
}

/**
 * The upload page. Plain HTML with native, labelled controls so that it works
 * from the keyboard and with a screen reader; `#status` and `#error` are the
 * live regions the script writes to.
 */
export const indexHtml = (parts: PageParts): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Upload a file</title>
<link rel="icon" href="data:,">
<style>${parts.style}</style>
</head>
<body>
<main>
<h1>Upload a file</h1>
<noscript><p>This page needs JavaScript to upload.</p></noscript>
<form id="upload-form" novalidate>
  <div class="field">
    <label for="token">Access token</label>
    <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required aria-describedby="token-hint">
    <p id="token-hint" class="hint">Paste a bearer token (JWT). Locally, print one with <code>npm run token -- &lt;you&gt;</code>. It is kept in this browser tab only.</p>
  </div>
  <div class="field">
    <label for="file">File</label>
    <input id="file" name="file" type="file" required aria-describedby="file-hint">
    <p id="file-hint" class="hint">Accepted: <span id="allowed-types">see the rules below</span>.</p>
  </div>
  <button id="upload" type="submit">Upload</button>
</form>
<p id="error" role="alert"></p>
<section aria-labelledby="progress-heading">
  <h2 id="progress-heading">Progress</h2>
  <label for="progress">Sent to storage</label>
  <progress id="progress" max="100" value="0"></progress>
  <p id="progress-text" class="hint">Nothing sent yet.</p>
  <p id="status" role="status"></p>
  <p>Validation: <span id="verdict" data-status="none">not started</span></p>
</section>
<section id="results" aria-labelledby="results-heading" hidden>
  <h2 id="results-heading">Links</h2>
  <ul id="links">
    <li><a id="download-link" href="#">Download</a> <span id="download-expiry" class="hint"></span></li>
    <li>Share link: <a id="share-link" href="#"></a> <span id="share-expiry" class="hint"></span></li>
  </ul>
</section>
</main>
<script type="application/json" id="upload-rules">${parts.rulesJson}</script>
<script>${parts.script}</script>
</body>
</html>
`;
