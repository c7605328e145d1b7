// The web console in real headless Chromium (Debian's `chromium`, driven by playwright-core): the
// page lists buckets with their counts and sizes, walks a folder tree a page of 1000 at a time,
// shows an object's properties, metadata, tags, versions and ACL, uploads, downloads and deletes
// through the page, and shows live requests, counters and faults. A screenshot is written to
// .nogit/console.png. Signatures are on: the console needs none, a plain request still does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { s3Error, startTestServer, tempDir, type ITestServer } from './helpers.js';

const CREDENTIALS = { accessKeyId: 'CONSOLEKEY', secretAccessKey: 'console-secret' };
const SCREENSHOT = path.join(import.meta.dirname, '..', '.nogit', 'console.png');
const MANY = 2500;

let s3: ITestServer;
let consoleUrl: string;
let fixtures: string;
let browser: Browser;
let page: Page;

/** The fixture files: relative path → content. */
const FILES: Record<string, string> = {
  'index.html': '<h1>hello</h1>',
  'docs/readme.txt': 'read me first',
  'docs/guide/intro.md': '# intro\n',
};

before(async () => {
  fixtures = tempDir('console-fixtures');
  for (const [file, content] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(fixtures, file)), { recursive: true });
    fs.writeFileSync(path.join(fixtures, file), content);
  }
  s3 = await startTestServer('console', {
    auth: { enabled: true, credentials: [CREDENTIALS] },
    console: { enabled: true },
    buckets: [
      { name: 'fixtures', directory: fixtures },
      {
        name: 'published',
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::published/*' }] },
      },
    ],
    faults: [{ name: 'flaky-parts', operations: ['UploadPart'], error: { code: 'SlowDown' }, probability: 0.5 }],
  });
  consoleUrl = s3.smarts3.getConsoleUrl()!;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page.on('dialog', (dialog) => dialog.accept());
});

after(async () => {
  await browser?.close();
  await s3?.stop();
  fs.rmSync(fixtures, { recursive: true, force: true });
});

/** Opens a view of the page and waits until it is on screen (not the one before it). */
async function open(hash: string): Promise<void> {
  await page.goto(`${consoleUrl}${hash}`);
  await page.waitForSelector(`#view[data-shown="${hash}"]`);
}

/** The texts of the cells of a table's rows. */
async function rows(selector: string): Promise<string[][]> {
  return page.$$eval(`${selector} tbody tr`, (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
  );
}

describe('the web console', () => {
  it('is off unless enabled, and says where it is when on', async () => {
    const off = await startTestServer('console-off');
    try {
      assert.equal(off.smarts3.getConsoleUrl(), undefined);
      assert.equal(off.smarts3.getServerInfo().consoleUrl, null);
    } finally {
      await off.stop();
    }
    assert.match(consoleUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.notEqual(new URL(consoleUrl).port, String(s3.smarts3.getServerInfo().port));
  });

  it('lists the buckets with their object counts and sizes', async () => {
    await s3.client.send(new CreateBucketCommand({ Bucket: 'empty-one' }));
    await open('#/');
    const table = await rows('#buckets');
    const fixtureRow = table.find((r) => r[0] === 'fixtures')!;
    const bytes = Object.values(FILES).reduce((n, c) => n + Buffer.byteLength(c), 0);
    assert.deepEqual(fixtureRow.slice(0, 3), ['fixtures', String(Object.keys(FILES).length), `${bytes} B`]);
    assert.deepEqual(table.find((r) => r[0] === 'empty-one')!.slice(0, 3), ['empty-one', '0', '0 B']);
    assert.match(await page.textContent('#server-info') ?? '', /auth on/);
  });

  it('walks a bucket as a folder tree', async () => {
    await page.click('a.bucket:text-is("fixtures")');
    await page.waitForSelector('#objects');
    assert.deepEqual((await rows('#objects')).map((r) => r[0]), ['docs/', 'index.html']);
    assert.equal(await page.textContent('#policy'), 'No bucket policy.');
    await page.click('#objects a:text-is("docs/")');
    await page.waitForFunction(() => document.querySelector('#objects')?.textContent?.includes('readme.txt'));
    assert.deepEqual((await rows('#objects')).map((r) => r[0]), ['guide/', 'readme.txt']);
    assert.equal((await rows('#objects'))[1][1], `${FILES['docs/readme.txt'].length} B`);
    assert.match(await page.textContent('#crumbs') ?? '', /Buckets\s*\/\s*fixtures\s*\/\s*docs/);
  });

  it("shows a bucket's policy and whether it is public", async () => {
    await open('#/b/published');
    assert.equal(await page.textContent('#policy summary'), 'Bucket policy (public)');
    assert.match(await page.textContent('#policy pre') ?? '', /"Action": "s3:GetObject"/);
  });

  it('pages through a folder of many keys, 1000 at a time', async () => {
    await s3.client.send(new CreateBucketCommand({ Bucket: 'many' }));
    const keys = Array.from({ length: MANY }, (_, i) => `k/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((Key) => s3.client.send(new PutObjectCommand({ Bucket: 'many', Key, Body: 'x' }))));
    }
    await open('#/b/many?prefix=k%2F');
    const pageText = () => page.textContent('#page-info');
    assert.equal(await pageText(), 'Page 1: entries 1–1000');
    assert.equal((await rows('#objects')).length, 1000);
    assert.equal((await rows('#objects'))[0][0], '00000');
    await page.click('#next-page');
    await page.waitForFunction(() => document.querySelector('#page-info')?.textContent?.startsWith('Page 2'));
    assert.equal(await pageText(), 'Page 2: entries 1001–2000');
    assert.equal((await rows('#objects'))[0][0], '01000');
    await page.click('#next-page');
    await page.waitForFunction(() => document.querySelector('#page-info')?.textContent?.startsWith('Page 3'));
    assert.equal(await pageText(), 'Page 3: entries 2001–2500');
    assert.equal((await rows('#objects')).at(-1)![0], '02499');
    assert.equal(await page.isDisabled('#next-page'), true);
    await page.click('#prev-page');
    await page.waitForFunction(() => document.querySelector('#page-info')?.textContent?.startsWith('Page 2'));
    assert.equal((await rows('#objects'))[0][0], '01000');
  });

  it("shows an object's properties, metadata, tags, versions and ACL", async () => {
    await s3.client.send(new CreateBucketCommand({ Bucket: 'versioned' }));
    await s3.client.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }));
    const first = await s3.client.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'reports/q1.csv', Body: 'a,b\n' }));
    const second = await s3.client.send(
      new PutObjectCommand({
        Bucket: 'versioned',
        Key: 'reports/q1.csv',
        Body: 'a,b\n1,2\n',
        ContentType: 'text/csv',
        Metadata: { author: 'ada' },
        Tagging: 'team=data&stage=final',
      }),
    );
    await open('#/b/versioned?prefix=reports%2F');
    await page.click('#objects a:text-is("q1.csv")');
    await page.waitForSelector('#versions');
    const properties = Object.fromEntries(
      await page.$$eval('#properties tr', (trs) => trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent])),
    );
    assert.equal(properties['content-type'], 'text/csv');
    assert.equal(properties['x-amz-version-id'], second.VersionId);
    assert.equal(properties.etag, second.ETag);
    const pairs = (selector: string) =>
      page.$$eval(`${selector} tr`, (trs) => trs.map((tr) => `${tr.querySelector('th')!.textContent}=${tr.querySelector('td')!.textContent}`));
    assert.deepEqual(await pairs('#metadata'), ['author=ada']);
    assert.deepEqual((await pairs('#tags')).sort(), ['stage=final', 'team=data']);
    const versions = await rows('#versions');
    assert.deepEqual(versions.map((r) => [r[0], r[2]]), [[second.VersionId, 'latest'], [first.VersionId, '']]);
    assert.match(await page.textContent('#acl') ?? '', /FULL_CONTROL/);
  });

  it('uploads a file through the page', async () => {
    await open('#/b/fixtures?prefix=docs%2F');
    const content = Buffer.from('uploaded from chromium\n'.repeat(1000));
    await page.setInputFiles('#upload-files', { name: 'notes.txt', mimeType: 'text/plain', buffer: content });
    await page.click('form.inline button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Uploaded 1 file'));
    const got = await s3.client.send(new GetObjectCommand({ Bucket: 'fixtures', Key: 'docs/notes.txt' }));
    assert.equal(got.ContentType, 'text/plain');
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), content);
    await page.waitForSelector('#objects a:text-is("notes.txt")');
  });

  it('downloads an object through the page', async () => {
    await open('#/o/fixtures?key=docs%2Freadme.txt');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    assert.equal(download.suggestedFilename(), 'readme.txt');
    assert.equal(fs.readFileSync((await download.path())!, 'utf8'), FILES['docs/readme.txt']);
  });

  it('deletes an object through the page', async () => {
    await open('#/o/fixtures?key=index.html');
    await page.click('#delete-object');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Deleted index.html.');
    const gone = await s3Error(s3.client.send(new HeadObjectCommand({ Bucket: 'fixtures', Key: 'index.html' })));
    assert.equal(gone.$metadata.httpStatusCode, 404);
    assert.equal(page.url(), `${consoleUrl}#/b/fixtures`);
  });

  it('shows live requests, counters and the active faults, and takes a screenshot', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'fixtures', Key: 'live/marker.txt', Body: 'live' }));
    await open('#/o/versioned?key=reports%2Fq1.csv');
    await page.waitForFunction(() => document.querySelector('#requests')?.textContent?.includes('fixtures/live/marker.txt'));
    const live = await rows('#requests');
    const put = live.find((r) => r[2] === 'fixtures/live/marker.txt')!;
    assert.deepEqual([put[1], put[3]], ['PutObject', '200']);
    // The console's own calls are there as requester "console"; the SDK's as its key.
    const records = (await s3.smarts3.getRequests()).filter((r) => r.operation === 'PutObject');
    assert.ok(records.some((r) => r.requester === 'console' && r.key === 'docs/notes.txt'));
    assert.ok(records.some((r) => r.requester === CREDENTIALS.accessKeyId && r.key === 'live/marker.txt'));
    const counters = await rows('#counters');
    const putCount = Number(counters.find((r) => r[0] === 'PutObject')![1]);
    assert.ok(putCount >= MANY + 4, `PutObject ok count ${putCount}`);
    assert.match(await page.textContent('#faults') ?? '', /flaky-parts UploadPart: SlowDown, p=0\.5 · hits 0/);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(png.length > 20_000, `screenshot of ${png.length} bytes`);
  });

  it('keeps other sites out and objects from running as the console', async () => {
    // Without signatures only the console gets in.
    const unsigned = await fetch(`${s3.endpoint}/fixtures/docs/readme.txt`);
    assert.equal(unsigned.status, 403);
    const viaConsole = await fetch(`${consoleUrl}s3/fixtures/docs/readme.txt`);
    assert.equal(viaConsole.status, 200);
    assert.equal(await viaConsole.text(), FILES['docs/readme.txt']);
    assert.equal(viaConsole.headers.get('content-security-policy'), 'sandbox');
    // A change without the console's header (a form or script on another site) is refused.
    const forged = await fetch(`${consoleUrl}s3/fixtures/forged.txt`, { method: 'PUT', body: 'x' });
    assert.equal(forged.status, 403);
    const preflight = await fetch(`${consoleUrl}s3/fixtures/forged.txt`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'PUT' },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const forgedObject = await s3Error(s3.client.send(new HeadObjectCommand({ Bucket: 'fixtures', Key: 'forged.txt' })));
    assert.equal(forgedObject.$metadata.httpStatusCode, 404);
    // A page that rebinds its own domain to 127.0.0.1 still sends that domain as Host.
    const rebound = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${consoleUrl}api/buckets`);
      import('node:http').then(({ request }) =>
        request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: `evil.example:${url.port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        }).on('error', reject).end(),
      );
    });
    assert.equal(rebound, 403);
    // The page itself loads nothing from anywhere else.
    const index = await fetch(consoleUrl);
    assert.match(index.headers.get('content-security-policy')!, /default-src 'none'/);
    assert.equal(index.headers.get('x-frame-options'), 'DENY');
  });
});
