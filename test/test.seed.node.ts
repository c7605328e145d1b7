// Seeded buckets (config `buckets`): created at start with versioning, tags, CORS rules and the
// files of a local directory (content type from the extension), left alone when they exist,
// and brought back by reset().
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  GetBucketCorsCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  DeleteObjectCommand,
} from '@aws-sdk/client-s3';
import { s3Error, startTestServer, tempDir } from './helpers.js';
import type { ITestServer } from './helpers.js';
import type { ISeedBucket } from '../ts/index.js';

/** A fixture directory: a small site, a nested data file and a file without an extension. */
function fixtures(): string {
  const dir = tempDir('seed-files');
  fs.mkdirSync(path.join(dir, 'assets', 'img'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<h1>hello</h1>');
  fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'assets', 'img', 'logo.SVG'), '<svg/>');
  fs.writeFileSync(path.join(dir, 'data', 'rows.json'), JSON.stringify({ rows: [1, 2, 3] }));
  fs.writeFileSync(path.join(dir, 'LICENSE'), 'MIT');
  return dir;
}

describe('seeded buckets', () => {
  let server: ITestServer;
  let files: string;
  let seeds: ISeedBucket[];

  before(async () => {
    files = fixtures();
    seeds = [
      {
        name: 'site',
        directory: files,
        tags: { team: 'web', stage: 'test' },
        cors: [{ allowedOrigins: ['https://app.example'], allowedMethods: ['GET', 'PUT'], maxAgeSeconds: 60 }],
      },
      { name: 'history', versioning: 'Enabled' },
    ];
    server = await startTestServer('seed', { buckets: seeds });
  });
  after(async () => {
    await server.stop();
    fs.rmSync(files, { recursive: true, force: true });
  });

  it('holds the directory\'s files as objects, with content types from their extensions', async () => {
    const listed = await server.client.send(new ListObjectsV2Command({ Bucket: 'site' }));
    assert.deepEqual(
      listed.Contents?.map((o) => [o.Key, o.Size]),
      [
        ['LICENSE', 3],
        ['assets/app.js', 14],
        ['assets/img/logo.SVG', 6],
        ['data/rows.json', 16],
        ['index.html', 14],
      ],
    );
    const types: Record<string, string> = {
      'index.html': 'text/html',
      'assets/app.js': 'text/javascript',
      'assets/img/logo.SVG': 'image/svg+xml',
      'data/rows.json': 'application/json',
      LICENSE: 'binary/octet-stream',
    };
    for (const [key, type] of Object.entries(types)) {
      const head = await server.client.send(new HeadObjectCommand({ Bucket: 'site', Key: key }));
      assert.equal(head.ContentType, type, key);
    }
    const page = await server.client.send(new GetObjectCommand({ Bucket: 'site', Key: 'index.html' }));
    assert.equal(await page.Body!.transformToString(), '<h1>hello</h1>');
  });

  it('has its tags, CORS rules and versioning', async () => {
    const tags = await server.client.send(new GetBucketTaggingCommand({ Bucket: 'site' }));
    assert.deepEqual(
      tags.TagSet?.map((t) => [t.Key, t.Value]).sort(),
      [
        ['stage', 'test'],
        ['team', 'web'],
      ],
    );
    const cors = await server.client.send(new GetBucketCorsCommand({ Bucket: 'site' }));
    assert.deepEqual(cors.CORSRules?.map((r) => [r.AllowedOrigins, r.AllowedMethods, r.MaxAgeSeconds]), [
      [['https://app.example'], ['GET', 'PUT'], 60],
    ]);
    const preflight = await fetch(`${server.endpoint}/site/index.html`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(preflight.status, 403, 'the bucket\'s rules, not the permissive default, decide');
    const versioning = await server.client.send(new GetBucketVersioningCommand({ Bucket: 'history' }));
    assert.equal(versioning.Status, 'Enabled');
    const put = await server.client.send(new PutObjectCommand({ Bucket: 'history', Key: 'k', Body: 'v1' }));
    assert.match(put.VersionId ?? '', /^[0-9a-f]{32}$/);
  });

  it('reset() puts the seeded buckets back as configured; other buckets go', async () => {
    await server.client.send(new DeleteObjectCommand({ Bucket: 'site', Key: 'index.html' }));
    await server.client.send(new PutObjectCommand({ Bucket: 'site', Key: 'extra.txt', Body: 'x' }));
    await server.smarts3.createBucket('scratch');
    assert.equal(await server.smarts3.reset(), 3);
    assert.deepEqual((await server.smarts3.listBuckets()).map((b) => b.name).sort(), ['history', 'site']);
    const listed = await server.client.send(new ListObjectsV2Command({ Bucket: 'site' }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['LICENSE', 'assets/app.js', 'assets/img/logo.SVG', 'data/rows.json', 'index.html']);
    const history = await server.client.send(new ListObjectsV2Command({ Bucket: 'history' }));
    assert.equal(history.KeyCount, 0);
  });

  it('a restart on the same directory leaves an existing seeded bucket as it is', async () => {
    const directory = tempDir('seed-restart');
    const first = await startTestServer('seed-restart', { buckets: seeds, storage: { directory } });
    await first.client.send(new DeleteObjectCommand({ Bucket: 'site', Key: 'LICENSE' }));
    first.client.destroy();
    await first.smarts3.stop();
    const second = await startTestServer('seed-restart', { buckets: seeds, storage: { directory, cleanSlate: false } });
    try {
      const error = await s3Error(second.client.send(new HeadObjectCommand({ Bucket: 'site', Key: 'LICENSE' })));
      assert.equal(error.$metadata.httpStatusCode, 404);
      const listed = await second.client.send(new ListObjectsV2Command({ Bucket: 'site' }));
      assert.equal(listed.KeyCount, 4);
    } finally {
      await second.stop();
    }
  });

  it('a bad seed stops the start with the reason', async () => {
    await assert.rejects(startTestServer('seed-bad', { buckets: [{ name: 'Bad_Name' }] }), /seeded bucket 'Bad_Name'/);
    await assert.rejects(
      startTestServer('seed-bad', { buckets: [{ name: 'nodir', directory: path.join(files, 'missing') }] }),
      /seeded bucket 'nodir': .*missing is not a directory/,
    );
    await assert.rejects(
      startTestServer('seed-bad', { buckets: [{ name: 'badcors', cors: [{ allowedOrigins: ['*'], allowedMethods: ['PATCH'] }] }] }),
      /seeded bucket 'badcors': cors: .*Unsupported method is PATCH/,
    );
    await assert.rejects(startTestServer('seed-bad', { buckets: [{ name: 'twice' }, { name: 'twice' }] }), /named twice/);
  });
});
