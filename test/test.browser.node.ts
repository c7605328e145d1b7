// CORS proven in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core)
// loads pages from other localhost origins that talk to the server — a presigned PUT, the AWS SDK
// for JavaScript v3 bundled into the page (esbuild), listing, downloads, the exposed ETag — and a
// page from an origin no rule allows is refused. (`npm test` installs chromium when missing.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as esbuild from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { s3Error, startTestServer, type ITestServer } from './helpers.js';

const CREDENTIALS = { accessKeyId: 'BROWSERKEY', secretAccessKey: 'browser-secret' };
const BUCKET = 'browser-bucket';

interface ISite {
  origin: string;
  server: http.Server;
}

/** A tiny web site on its own origin: an empty page and the bundled SDK. */
async function startSite(sdkBundle: string): Promise<ISite> {
  const server = http.createServer((req, res) => {
    if (req.url === '/sdk.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(sdkBundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><head><script src="/sdk.js"></script></head><body>smarts3 browser test</body></html>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as any).port}`, server };
}

let s3: ITestServer;
let allowed: ISite;
let refused: ISite;
let browser: Browser;

before(async () => {
  const bundle = await esbuild.build({
    entryPoints: [path.join(import.meta.dirname, 'browser', 'sdk-entry.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'AwsS3',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const sdkBundle = bundle.outputFiles[0].text;
  allowed = await startSite(sdkBundle);
  refused = await startSite(sdkBundle);
  s3 = await startTestServer('browser', {
    auth: { enabled: true, credentials: [CREDENTIALS] },
    cors: { enabled: true, allowedOrigins: [allowed.origin], exposedHeaders: ['ETag', 'x-amz-request-id'], maxAge: 600 },
  });
  await s3.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // playwright gives the browser a fresh, empty profile of its own.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
});

after(async () => {
  await browser?.close();
  for (const site of [allowed, refused]) site?.server.close();
  await s3?.stop();
});

async function presign(command: PutObjectCommand | GetObjectCommand): Promise<string> {
  const presigner = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  try {
    return await getSignedUrl(presigner, command, { expiresIn: 300 });
  } finally {
    presigner.destroy();
  }
}

/** A page; tsx compiles the test with keepNames, whose `__name` helper the page must know. */
async function newPage() {
  const page = await browser.newPage();
  await page.addInitScript('window.__name = (fn) => fn;');
  return page;
}

describe('a real browser', () => {
  it('uploads with a presigned PUT and the bundled SDK, lists, downloads and reads the ETag', async () => {
    const putUrl = await presign(new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt' }));
    const page = await newPage();
    try {
      await page.goto(`${allowed.origin}/`);
      const result = await page.evaluate(
        async ({ endpoint, putUrl, bucket, credentials }) => {
          const S3 = (window as any).AwsS3;
          const put = await fetch(putUrl, { method: 'PUT', body: 'uploaded by presigned url', headers: { 'content-type': 'text/plain' } });
          const client = new S3.S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
          const sdkPut = await client.send(new S3.PutObjectCommand({ Bucket: bucket, Key: 'sdk.txt', Body: 'uploaded by the sdk', ContentType: 'text/plain' }));
          const listed = await client.send(new S3.ListObjectsV2Command({ Bucket: bucket }));
          const read = async (Key: string) => (await client.send(new S3.GetObjectCommand({ Bucket: bucket, Key }))).Body.transformToString();
          return {
            origin: location.origin,
            putStatus: put.status,
            putEtag: put.headers.get('etag'),
            requestId: put.headers.get('x-amz-request-id'),
            sdkEtag: sdkPut.ETag,
            keys: listed.Contents.map((c: any) => c.Key),
            presigned: await read('presigned.txt'),
            sdk: await read('sdk.txt'),
          };
        },
        { endpoint: s3.endpoint, putUrl, bucket: BUCKET, credentials: CREDENTIALS },
      );
      assert.equal(result.origin, allowed.origin);
      assert.equal(result.putStatus, 200);
      assert.match(result.putEtag!, /^"[0-9a-f]{32}"$/, 'the exposed ETag is readable');
      assert.match(result.requestId!, /^[0-9A-F]{16}$/);
      assert.match(result.sdkEtag, /^"[0-9a-f]{32}"$/);
      assert.deepEqual(result.keys, ['presigned.txt', 'sdk.txt']);
      assert.equal(result.presigned, 'uploaded by presigned url');
      assert.equal(result.sdk, 'uploaded by the sdk');
    } finally {
      await page.close();
    }
    // And the bytes really are on the server.
    const get = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk.txt' }));
    assert.equal(await get.Body!.transformToString(), 'uploaded by the sdk');
  });

  it('refuses a page from an origin that no rule allows', async () => {
    const getUrl = await presign(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk.txt' }));
    const putUrl = await presign(new PutObjectCommand({ Bucket: BUCKET, Key: 'intruder.txt' }));
    const page = await newPage();
    try {
      await page.goto(`${refused.origin}/`);
      const outcome = await page.evaluate(
        async ({ endpoint, getUrl, putUrl, bucket, credentials }) => {
          const attempt = async (run: () => Promise<unknown>) => {
            try {
              await run();
              return 'allowed';
            } catch (error) {
              return (error as Error).name;
            }
          };
          const S3 = (window as any).AwsS3;
          const client = new S3.S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 });
          return {
            get: await attempt(() => fetch(getUrl)),
            put: await attempt(() => fetch(putUrl, { method: 'PUT', body: 'x', headers: { 'content-type': 'text/plain' } })),
            sdk: await attempt(() => client.send(new S3.ListObjectsV2Command({ Bucket: bucket }))),
          };
        },
        { endpoint: s3.endpoint, getUrl, putUrl, bucket: BUCKET, credentials: CREDENTIALS },
      );
      assert.deepEqual(outcome, { get: 'TypeError', put: 'TypeError', sdk: 'TypeError' });
    } finally {
      await page.close();
    }
    // The owner, who may read everything, finds nothing stored.
    const head = await s3Error(s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'intruder.txt' })));
    assert.equal(head.$metadata.httpStatusCode, 404, 'nothing was stored');
  });
});
