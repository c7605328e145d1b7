// The smarts3 web console: plain DOM, no framework. S3 calls go to /s3/… on this origin (the
// console passes them to the S3 pipeline as the server's owner); /api/… answers JSON.
'use strict';

const PAGE_SIZE = 1000;
const LIVE_INTERVAL_MS = 1000;
const LIVE_ROWS = 200;
const S3_HEADER = { 'x-smarts3-console': '1' };

// ---- small helpers ----

/** An element with attributes and children (strings become text, never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function formatBytes(n) {
  n = Number(n);
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

function formatTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** A key in a URL path: each segment encoded, the slashes kept. */
const keyPath = (key) => key.split('/').map(encodeURIComponent).join('/');

function s3Url(bucket, key, query) {
  let url = '/s3/' + encodeURIComponent(bucket);
  if (key !== undefined) url += '/' + keyPath(key);
  if (query) url += '?' + new URLSearchParams(query).toString();
  return url;
}

/** The direct child element named `name` of an XML node. */
const child = (node, name) => node && [...node.children].find((c) => c.localName === name);
const children = (node, name) => (node ? [...node.children].filter((c) => c.localName === name) : []);
const text = (node, name) => child(node, name)?.textContent ?? '';

/** Sends an S3 request; an S3 error becomes an Error with its code and message. */
async function s3(method, url, init = {}) {
  const response = await fetch(url, { method, ...init, headers: { ...S3_HEADER, ...init.headers } });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    if (method !== 'HEAD') {
      const doc = new DOMParser().parseFromString(await response.text(), 'application/xml');
      const error = doc.documentElement;
      if (error?.localName === 'Error') message = `${text(error, 'Code')}: ${text(error, 'Message')}`;
    }
    const err = new Error(message);
    err.status = response.status;
    throw err;
  }
  return response;
}

async function s3Xml(url) {
  const response = await s3('GET', url);
  return new DOMParser().parseFromString(await response.text(), 'application/xml').documentElement;
}

async function api(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function setStatus(message, kind = 'info') {
  const status = document.getElementById('status');
  status.textContent = message;
  status.className = kind;
}

function setCrumbs(...parts) {
  document.getElementById('crumbs').replaceChildren(
    ...parts.flatMap((part, i) => (i ? [el('span', { class: 'sep' }, '/'), part] : [part])),
  );
}

function table(headings, rows, attrs = {}) {
  return el('table', attrs,
    el('thead', {}, el('tr', {}, headings.map((h) => el('th', { class: h.num ? 'num' : undefined }, h.label ?? h)))),
    el('tbody', {}, rows));
}

const num = (label) => ({ label, num: true });

// ---- routes: #/ (buckets), #/b/<bucket>?prefix=… (folder), #/o/<bucket>?key=… (object) ----

/** A message for the view a change navigates to ([text, kind]). */
let pendingStatus;

function navigate(hash, ...status) {
  pendingStatus = status;
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** Shows the view the location names; `#view[data-shown]` says which one is on screen. */
async function route() {
  const shown = location.hash;
  const viewNode = document.getElementById('view');
  delete viewNode.dataset.shown;
  await show();
  if (location.hash === shown) viewNode.dataset.shown = shown || '#/';
}

function show() {
  const hash = location.hash.slice(1) || '/';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  setStatus(...(pendingStatus ?? ['']));
  pendingStatus = undefined;
  if (parts[0] === 'b' && parts[1]) return showFolder(parts[1], params.get('prefix') ?? '');
  if (parts[0] === 'o' && parts[1]) return showObject(parts[1], params.get('key') ?? '');
  return showBuckets();
}

const folderHash = (bucket, prefix = '') =>
  `#/b/${encodeURIComponent(bucket)}` + (prefix ? `?prefix=${encodeURIComponent(prefix)}` : '');
const objectHash = (bucket, key) => `#/o/${encodeURIComponent(bucket)}?key=${encodeURIComponent(key)}`;

function view(...nodes) {
  document.getElementById('view').replaceChildren(...nodes);
}

function report(error) {
  setStatus(error.message, 'error');
}

// ---- buckets ----

async function showBuckets() {
  setCrumbs(el('a', { href: '#/' }, 'Buckets'));
  view(el('p', { class: 'muted' }, 'Loading…'));
  let buckets;
  try {
    ({ buckets } = await api('/api/buckets'));
  } catch (error) {
    return report(error);
  }
  const name = el('input', { id: 'new-bucket', placeholder: 'new-bucket-name', required: true, 'aria-label': 'Bucket name' });
  const create = el('form', {
    class: 'inline',
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        await s3('PUT', s3Url(name.value.trim()));
        setStatus(`Created bucket ${name.value.trim()}.`, 'ok');
        showBuckets();
      } catch (error) {
        report(error);
      }
    },
  }, name, el('button', { type: 'submit' }, 'Create bucket'));
  const rows = buckets.map((b) =>
    el('tr', {},
      el('td', {}, el('a', { href: folderHash(b.name), class: 'bucket' }, b.name)),
      el('td', { class: 'num' }, b.objects.toLocaleString()),
      el('td', { class: 'num' }, formatBytes(b.bytes)),
      el('td', {}, formatTime(b.creationDate))));
  view(
    el('h1', {}, 'Buckets'),
    buckets.length
      ? table(['Name', num('Objects'), num('Size'), 'Created'], rows, { id: 'buckets' })
      : el('p', { class: 'muted' }, 'No buckets yet.'),
    create,
  );
}

// ---- a bucket's folder ----

/** Links to the buckets, the bucket and each folder down to `prefix`. */
function folderCrumbs(bucket, prefix) {
  const crumbs = [el('a', { href: '#/' }, 'Buckets'), el('a', { href: folderHash(bucket) }, bucket)];
  let walked = '';
  for (const segment of prefix.split('/').filter(Boolean)) {
    walked += segment + '/';
    crumbs.push(el('a', { href: folderHash(bucket, walked) }, segment));
  }
  return crumbs;
}

/** Where each folder's paging stands: the continuation token of every page seen. */
const paging = { at: '', tokens: [undefined] };

async function showFolder(bucket, prefix, pageIndex = 0) {
  const at = `${bucket}\n${prefix}`;
  if (paging.at !== at) Object.assign(paging, { at, tokens: [undefined] });
  setCrumbs(...folderCrumbs(bucket, prefix));
  let listing, versioning, policy;
  try {
    const query = { 'list-type': '2', delimiter: '/', 'max-keys': String(PAGE_SIZE) };
    if (prefix) query.prefix = prefix;
    const token = paging.tokens[pageIndex];
    if (token) query['continuation-token'] = token;
    [listing, versioning, policy] = await Promise.all([
      s3Xml(s3Url(bucket, undefined, query)),
      s3Xml(s3Url(bucket, undefined, { versioning: '' })),
      prefix ? null : bucketPolicy(bucket),
    ]);
  } catch (error) {
    view();
    return report(error);
  }
  const next = text(listing, 'NextContinuationToken');
  if (text(listing, 'IsTruncated') === 'true') paging.tokens[pageIndex + 1] = next;
  const folders = children(listing, 'CommonPrefixes').map((p) => text(p, 'Prefix'));
  const objects = children(listing, 'Contents');
  const rows = [
    ...folders.map((p) =>
      el('tr', { class: 'folder' },
        el('td', {}, el('a', { href: folderHash(bucket, p) }, p.slice(prefix.length))),
        el('td', { class: 'num' }), el('td', {}))),
    ...objects.map((o) => {
      const key = text(o, 'Key');
      return el('tr', { class: 'object' },
        el('td', {}, el('a', { href: objectHash(bucket, key) }, key.slice(prefix.length))),
        el('td', { class: 'num' }, formatBytes(text(o, 'Size'))),
        el('td', {}, formatTime(text(o, 'LastModified'))));
    }),
  ];
  const first = pageIndex * PAGE_SIZE + 1;
  const shown = folders.length + objects.length;
  const pager = el('div', { class: 'pager' },
    el('button', { id: 'prev-page', disabled: pageIndex === 0, onclick: () => showFolder(bucket, prefix, pageIndex - 1) }, '← Previous'),
    el('span', { id: 'page-info' }, shown ? `Page ${pageIndex + 1}: entries ${first}–${first + shown - 1}` : 'Empty'),
    el('button', { id: 'next-page', disabled: text(listing, 'IsTruncated') !== 'true', onclick: () => showFolder(bucket, prefix, pageIndex + 1) }, 'Next →'));

  const files = el('input', { type: 'file', id: 'upload-files', multiple: true, 'aria-label': 'Files to upload' });
  const upload = el('form', {
    class: 'inline',
    onsubmit: async (event) => {
      event.preventDefault();
      const chosen = [...files.files];
      try {
        for (const [i, file] of chosen.entries()) {
          setStatus(`Uploading ${file.name} (${i + 1} of ${chosen.length})…`);
          await s3('PUT', s3Url(bucket, prefix + file.name), {
            body: file,
            headers: { 'content-type': file.type || 'application/octet-stream' },
          });
        }
        setStatus(`Uploaded ${chosen.length} file(s) to ${bucket}/${prefix}.`, 'ok');
        showFolder(bucket, prefix, pageIndex);
      } catch (error) {
        report(error);
      }
    },
  }, files, el('button', { type: 'submit' }, 'Upload'));
  const removeBucket = el('button', {
    class: 'danger',
    onclick: async () => {
      if (!confirm(`Delete bucket ${bucket}? (S3 deletes only empty buckets.)`)) return;
      try {
        await s3('DELETE', s3Url(bucket));
        navigate('#/', `Deleted bucket ${bucket}.`, 'ok');
      } catch (error) {
        report(error);
      }
    },
  }, 'Delete bucket');
  view(
    el('h1', {}, bucket, el('span', { class: 'muted' }, prefix ? ` / ${prefix}` : '')),
    el('p', { class: 'muted' }, `Versioning: ${text(versioning, 'Status') || 'never enabled'}`),
    el('div', { class: 'toolbar' }, upload, removeBucket),
    prefix ? '' : policySection(policy),
    rows.length ? table(['Name', num('Size'), 'Last modified'], rows, { id: 'objects' }) : el('p', { class: 'muted' }, 'No objects here.'),
    pager,
  );
}

/** The bucket policy as stored, with whether S3 would call it public; null when there is none. */
async function bucketPolicy(bucket) {
  try {
    const [document, status] = await Promise.all([
      s3('GET', s3Url(bucket, undefined, { policy: '' })).then((r) => r.text()),
      s3Xml(s3Url(bucket, undefined, { policyStatus: '' })),
    ]);
    return { document, isPublic: text(status, 'IsPublic') === 'true' };
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

function policySection(policy) {
  if (!policy) return el('p', { class: 'muted', id: 'policy' }, 'No bucket policy.');
  let shown = policy.document;
  try {
    shown = JSON.stringify(JSON.parse(policy.document), null, 2);
  } catch {
    // Shown as stored.
  }
  return el('details', { id: 'policy' },
    el('summary', {}, `Bucket policy (${policy.isPublic ? 'public' : 'not public'})`),
    el('pre', {}, shown));
}

// ---- one object ----

/** Response headers worth showing, in this order; x-amz-meta-* are listed apart. */
const PROPERTIES = [
  'content-length', 'content-type', 'etag', 'last-modified', 'x-amz-version-id', 'x-amz-storage-class',
  'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires',
  'x-amz-server-side-encryption', 'x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date',
  'x-amz-object-lock-legal-hold', 'x-amz-expiration', 'x-amz-tagging-count', 'x-amz-website-redirect-location',
];

async function showObject(bucket, key) {
  const folder = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  setCrumbs(...folderCrumbs(bucket, folder), el('span', {}, key.slice(folder.length)));
  let head;
  try {
    head = await s3('HEAD', s3Url(bucket, key));
  } catch (error) {
    view(el('h1', {}, key));
    return report(error.status === 404 ? new Error('NoSuchKey: the object does not exist (or is a delete marker).') : error);
  }
  const [tags, versions, acl] = await Promise.all([
    s3Xml(s3Url(bucket, key, { tagging: '' })).catch((e) => e),
    s3Xml(s3Url(bucket, undefined, { versions: '', prefix: key, 'max-keys': '1000' })).catch((e) => e),
    s3Xml(s3Url(bucket, key, { acl: '' })).catch((e) => e),
  ]);
  const name = key.slice(folder.length) || key;
  const properties = PROPERTIES.filter((h) => head.headers.has(h)).map((h) =>
    el('tr', {}, el('th', {}, h), el('td', {}, h === 'content-length' ? `${head.headers.get(h)} (${formatBytes(head.headers.get(h))})` : head.headers.get(h))));
  const metadata = [...head.headers].filter(([h]) => h.startsWith('x-amz-meta-')).map(([h, v]) =>
    el('tr', {}, el('th', {}, h.slice('x-amz-meta-'.length)), el('td', {}, v)));
  view(
    el('h1', {}, name),
    el('div', { class: 'toolbar' },
      el('a', { class: 'button', id: 'download', href: s3Url(bucket, key), download: name }, 'Download'),
      el('button', { class: 'danger', id: 'delete-object', onclick: () => removeObject(bucket, key, undefined, folder) }, 'Delete')),
    el('h2', {}, 'Properties'),
    el('table', { class: 'props', id: 'properties' }, properties),
    el('h2', {}, 'Metadata'),
    metadata.length ? el('table', { class: 'props', id: 'metadata' }, metadata) : el('p', { class: 'muted' }, 'No user metadata.'),
    el('h2', {}, 'Tags'),
    tagsSection(tags),
    el('h2', {}, 'Versions'),
    versionsSection(bucket, key, versions, folder),
    el('h2', {}, 'Access control'),
    aclSection(acl),
  );
}

function tagsSection(doc) {
  if (doc instanceof Error) return el('p', { class: 'error' }, doc.message);
  const tags = children(child(doc, 'TagSet'), 'Tag');
  if (!tags.length) return el('p', { class: 'muted' }, 'No tags.');
  return el('table', { class: 'props', id: 'tags' }, tags.map((t) => el('tr', {}, el('th', {}, text(t, 'Key')), el('td', {}, text(t, 'Value')))));
}

function versionsSection(bucket, key, doc, folder) {
  if (doc instanceof Error) return el('p', { class: 'error' }, doc.message);
  const entries = [...doc.children].filter((c) => (c.localName === 'Version' || c.localName === 'DeleteMarker') && text(c, 'Key') === key);
  if (!entries.length) return el('p', { class: 'muted' }, 'No versions.');
  const rows = entries.map((v) => {
    const id = text(v, 'VersionId');
    const marker = v.localName === 'DeleteMarker';
    const query = id !== 'null' ? { versionId: id } : undefined;
    return el('tr', {},
      el('td', { class: 'mono' }, id),
      el('td', {}, marker ? 'delete marker' : 'object'),
      el('td', {}, text(v, 'IsLatest') === 'true' ? 'latest' : ''),
      el('td', { class: 'num' }, marker ? '' : formatBytes(text(v, 'Size'))),
      el('td', {}, formatTime(text(v, 'LastModified'))),
      el('td', {},
        marker ? null : el('a', { href: s3Url(bucket, key, query), download: key.slice(folder.length) }, 'download'),
        ' ',
        query ? el('button', { class: 'link danger', onclick: () => removeObject(bucket, key, id, folder) }, 'delete version') : null));
  });
  return table(['Version', 'Kind', '', num('Size'), 'Modified', ''], rows, { id: 'versions' });
}

function aclSection(doc) {
  if (doc instanceof Error) return el('p', { class: 'error' }, doc.message);
  const owner = child(doc, 'Owner');
  const grants = children(child(doc, 'AccessControlList'), 'Grant').map((g) => {
    const grantee = child(g, 'Grantee');
    const who = text(grantee, 'DisplayName') || text(grantee, 'URI') || text(grantee, 'EmailAddress') || text(grantee, 'ID');
    return el('tr', {}, el('td', {}, who), el('td', {}, text(g, 'Permission')));
  });
  return el('div', { id: 'acl' },
    el('p', {}, `Owner: ${text(owner, 'DisplayName') || text(owner, 'ID')}`),
    table(['Grantee', 'Permission'], grants));
}

async function removeObject(bucket, key, versionId, folder) {
  const what = versionId ? `version ${versionId} of ${key}` : key;
  if (!confirm(`Delete ${what}?`)) return;
  try {
    await s3('DELETE', s3Url(bucket, key, versionId ? { versionId } : undefined));
    if (versionId) {
      await showObject(bucket, key);
      setStatus(`Deleted ${what}.`, 'ok');
    } else {
      navigate(folderHash(bucket, folder), `Deleted ${what}.`, 'ok');
    }
  } catch (error) {
    report(error);
  }
}

// ---- the activity panel: counters, faults and requests, polled ----

let lastSeq = 0;

async function pollLive() {
  try {
    if (!document.hidden) {
      const live = await api(`/api/live?since=${lastSeq}`);
      renderCounters(live.counters.requests);
      renderFaults(live.faults);
      renderRequests(live.requests);
    }
  } catch {
    // The server stopped or is busy: try again at the next tick.
  }
  setTimeout(pollLive, LIVE_INTERVAL_MS);
}

function renderCounters(rows) {
  const byOperation = new Map();
  for (const r of rows) {
    const entry = byOperation.get(r.operation) ?? { ok: 0, errors: 0 };
    if (r.status > 0 && r.status < 400) entry.ok += r.count;
    else entry.errors += r.count;
    byOperation.set(r.operation, entry);
  }
  const sorted = [...byOperation].sort(([a], [b]) => a.localeCompare(b));
  document.querySelector('#counters tbody').replaceChildren(...sorted.map(([op, c]) =>
    el('tr', {}, el('td', {}, op), el('td', { class: 'num' }, c.ok), el('td', { class: c.errors ? 'num error' : 'num' }, c.errors))));
}

function renderFaults(rules) {
  const list = document.getElementById('faults');
  if (!rules.length) return list.replaceChildren(el('li', { class: 'muted' }, 'None.'));
  list.replaceChildren(...rules.map((rule) => {
    const operations = rule.operations?.length ? rule.operations.join(', ') : 'every operation';
    const scope = [operations, rule.bucket, rule.keyPrefix && `${rule.keyPrefix}*`].filter(Boolean).join(' ');
    const effects = [
      rule.latencyMs && `+${rule.latencyMs} ms`,
      rule.error && `${rule.error.code}`,
      rule.bandwidthBytesPerSecond && `${formatBytes(rule.bandwidthBytesPerSecond)}/s`,
      rule.reset && `reset after ${rule.reset.afterBytes ?? 0} B`,
      rule.probability !== undefined && `p=${rule.probability}`,
    ].filter(Boolean).join(', ');
    return el('li', {}, el('strong', {}, rule.name), ` ${scope}: ${effects} · hits ${rule.hits}` +
      (rule.remaining !== undefined ? `, ${rule.remaining} left` : ''));
  }));
}

function renderRequests(records) {
  if (!records.length) return;
  lastSeq = records[records.length - 1].seq;
  const body = document.querySelector('#requests tbody');
  for (const r of records) {
    const resource = [r.bucket, r.key].filter(Boolean).join('/') || '/';
    body.prepend(el('tr', { class: r.status >= 400 || r.status === 0 ? 'failed' : undefined },
      el('td', { class: 'time' }, new Date(r.time).toLocaleTimeString([], { hour12: false })),
      el('td', { title: `${r.method} · ${r.requester ?? 'anonymous'}${r.fault ? ` · fault ${r.fault}` : ''}` }, r.operation),
      el('td', { class: 'resource', title: resource }, resource),
      el('td', { class: 'num', title: r.errorCode ?? undefined }, r.status === 0 ? 'reset' : r.status),
      el('td', { class: 'num' }, r.durationMs.toFixed(1))));
  }
  while (body.children.length > LIVE_ROWS) body.lastElementChild.remove();
}

// ---- start ----

async function start() {
  try {
    const info = await api('/api/info');
    document.getElementById('server-info').textContent =
      `v${info.version} · S3 at ${info.endpoint} · ${info.region} · auth ${info.authEnabled ? 'on' : 'off'} · ${info.directory}`;
    if (!info.requestHistory) {
      document.querySelector('#requests tbody').replaceChildren(el('tr', {}, el('td', { colspan: 5, class: 'muted' }, 'logging.requestHistory is 0: no requests are kept.')));
    }
  } catch (error) {
    report(error);
  }
  window.addEventListener('hashchange', route);
  route();
  pollLive();
}

start();
