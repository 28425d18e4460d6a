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
 * from the keyboard and with a screen reader: the drop zone wraps a native
 * file input (dropping is a shortcut, never the only way), every button names
 * its file, and `#status` and `#error` are the live regions the script
 * writes to. The queue and the file list are filled by the script.
 */
export const indexHtml = (parts: PageParts): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Upload files</title>
<link rel="icon" href="data:,">
<style>${parts.style}</style>
</head>
<body>
<main>
<h1>Upload files</h1>
<noscript><p>This page needs JavaScript to upload.</p></noscript>
<form id="upload-form" novalidate>
  <div class="field">
    <label for="token">Access token</label>
    <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required aria-describedby="token-hint">
    <p id="token-hint" class="hint">Paste a bearer token (JWT). Locally, print one with <code>npm run token -- &lt;you&gt;</code>. It is kept in this browser tab only.</p>
  </div>
  <div id="drop-zone" class="drop-zone">
    <label for="files">Files</label>
    <input id="files" name="files" type="file" multiple aria-describedby="files-hint">
    <p id="files-hint" class="hint">Choose files, or drop them here. Accepted: <span id="allowed-types">see the rules below</span>.</p>
  </div>
  <button id="upload" type="submit">Upload</button>
</form>
<p id="error" role="alert"></p>
<p id="status" role="status"></p>
<section id="resumable" aria-labelledby="resumable-heading" hidden>
  <h2 id="resumable-heading">Interrupted uploads</h2>
  <p class="hint">Choose or drop the same file again to resume it where it stopped.</p>
  <ul id="resumable-list" class="rows"></ul>
</section>
<section aria-labelledby="queue-heading">
  <h2 id="queue-heading">Uploads</h2>
  <p id="queue-empty" class="hint">Nothing chosen yet.</p>
  <ul id="queue" class="rows"></ul>
</section>
<section aria-labelledby="files-heading">
  <h2 id="files-heading">My files</h2>
  <button id="refresh-files" type="button">Refresh the list</button>
  <p id="files-note" class="hint">Paste your token to see your files.</p>
  <ul id="file-list" class="rows"></ul>
  <button id="more-files" type="button" hidden>Show more files</button>
</section>
</main>
<script type="application/json" id="upload-rules">${parts.rulesJson}</script>
<script>${parts.script}</script>
</body>
</html>
`;
