// Upgrading from smarts3 v2: a data directory in s3rver 3.x's layout opens in v6 with every
// object, its content type, its user metadata and its tags, migrated once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  GetBucketCorsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { startTestServer, tempDir, type ITestServer } from './helpers.js';

const md5 = (data: string | Buffer) => crypto.createHash('md5').update(data).digest('hex');

interface ILegacyObject {
  key: string;
  body: string;
  metadata?: Record<string, string>;
  /** The .md5 file's content; omitted = no .md5 file (s3rver computed it lazily). */
  storedMd5?: string;
  /** What v6 must serve. */
  expected?: string;
}

/** Writes an object the way s3rver 3.7.1 did (lib/stores/filesystem.js). */
function writeLegacy(bucketDir: string, object: ILegacyObject) {
  // path.join(root, bucket, ...dirs, last + suffix): `dir/` is `dir/._S3rver_object`.
  const segments = object.key.split('/');
  const last = segments.pop()!;
  const base = `${path.join(bucketDir, ...segments)}${path.sep}${last}`;
  fs.mkdirSync(path.join(bucketDir, ...segments), { recursive: true });
  fs.writeFileSync(`${base}._S3rver_object`, object.body);
  if (object.storedMd5 !== undefined) fs.writeFileSync(`${base}._S3rver_object.md5`, object.storedMd5);
  if (object.metadata) fs.writeFileSync(`${base}._S3rver_metadata.json`, JSON.stringify(object.metadata, null, 2));
}

const multipartBody = 'x'.repeat(64);
const OBJECTS: ILegacyObject[] = [
  { key: 'a', body: 'top level', metadata: { 'content-type': 'text/plain', 'x-amz-meta-foo': 'bar' }, storedMd5: md5('top level') },
  { key: 'a/b', body: 'nested under a', metadata: { 'content-type': 'application/json' }, storedMd5: md5('nested under a') },
  { key: 'dir/', body: '', metadata: { 'content-type': 'application/x-directory' }, storedMd5: md5('') },
  { key: 'sp ace+plus%.txt', body: 'odd name', metadata: { 'content-type': 'text/plain', 'cache-control': 'no-cache' }, storedMd5: md5('odd name') },
  { key: 'ünï.txt', body: 'unicode', metadata: { 'content-type': 'text/plain; charset=utf-8', 'x-amz-meta-lang': 'de' }, storedMd5: md5('unicode') },
  // s3rver stored multipart objects with the plain MD5 of the whole body; it is kept as stored.
  { key: 'multipart.bin', body: multipartBody, metadata: { 'content-type': 'application/octet-stream' }, storedMd5: md5(multipartBody) },
  { key: 'no-md5.txt', body: 'etag computed on migration', metadata: { 'content-type': 'text/plain' } },
  { key: 'no-metadata.bin', body: 'no metadata file', storedMd5: md5('no metadata file') },
  // s3rver stored SDK stream uploads with their aws-chunked framing; v6 repairs them.
  {
    key: 'streamed.txt',
    body: '6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n',
    metadata: { 'content-type': 'text/plain', 'content-encoding': 'aws-chunked' },
    storedMd5: 'ffffffffffffffffffffffffffffffff',
    expected: 'hello world',
  },
];

let directory: string;
let server: ITestServer;

before(async () => {
  directory = tempDir('v2-data');
  const bucketDir = path.join(directory, 'legacy-bucket');
  for (const object of OBJECTS) writeLegacy(bucketDir, object);
  fs.writeFileSync(
    path.join(bucketDir, 'a._S3rver_tagging.xml'),
    '<Tagging><TagSet><Tag><Key>team</Key><Value>storage</Value></Tag></TagSet></Tagging>',
  );
  fs.writeFileSync(
    path.join(bucketDir, '._S3rver_cors.xml'),
    '<CORSConfiguration>\n  <CORSRule>\n    <AllowedOrigin>*</AllowedOrigin>\n    <AllowedMethod>GET</AllowedMethod>\n  </CORSRule>\n</CORSConfiguration>',
  );
  fs.mkdirSync(path.join(bucketDir, '._S3rver_uploads', 'f'.repeat(32)), { recursive: true });
  fs.mkdirSync(path.join(directory, 'empty-legacy-bucket'));
  server = await startTestServer('upgrade', { storage: { directory, cleanSlate: false } });
});
after(async () => server?.stop());

describe('a smarts3 v2 data directory', () => {
  it('opens with every object, content type, user metadata and tag', async () => {
    const s3 = server.client;
    for (const object of OBJECTS) {
      const get = await s3.send(new GetObjectCommand({ Bucket: 'legacy-bucket', Key: object.key }));
      const body = await get.Body!.transformToString();
      const expected = object.expected ?? object.body;
      assert.equal(body, expected, object.key);
      assert.equal(get.ContentType, object.metadata?.['content-type'] ?? 'binary/octet-stream', object.key);
      const userMetadata = Object.fromEntries(
        Object.entries(object.metadata ?? {})
          .filter(([k]) => k.startsWith('x-amz-meta-'))
          .map(([k, v]) => [k.slice('x-amz-meta-'.length), v]),
      );
      assert.deepEqual(get.Metadata, userMetadata, object.key);
      const etag = object.expected !== undefined || object.storedMd5 === undefined ? md5(expected) : object.storedMd5;
      assert.equal(get.ETag, `"${etag}"`, object.key);
      assert.equal(get.ContentEncoding, undefined, object.key);
    }
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'legacy-bucket', Key: 'sp ace+plus%.txt' }));
    assert.equal(head.CacheControl, 'no-cache');
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'legacy-bucket', Key: 'a' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'team', Value: 'storage' }]);
    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: 'legacy-bucket' }));
    assert.deepEqual(cors.CORSRules, [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }]);
  });

  it('lists in S3 order and keeps buckets without objects', async () => {
    const listed = await server.client.send(new ListObjectsV2Command({ Bucket: 'legacy-bucket' }));
    const expected = OBJECTS.map((o) => o.key).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(listed.Contents!.map((c) => c.Key), expected);
    const empty = await server.client.send(new ListObjectsV2Command({ Bucket: 'empty-legacy-bucket' }));
    assert.equal(empty.KeyCount, 0);
  });

  it('leaves none of the old layout behind, so the migration runs once', async () => {
    const leftovers: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.name.includes('_S3rver_')) leftovers.push(path.join(dir, entry.name));
        if (entry.isDirectory()) walk(path.join(dir, entry.name));
      }
    };
    walk(directory);
    assert.deepEqual(leftovers, []);
    // A second start over the migrated directory serves the same objects.
    const again = await startTestServer('upgrade-again', { storage: { directory, cleanSlate: false } });
    try {
      const get = await again.client.send(new GetObjectCommand({ Bucket: 'legacy-bucket', Key: 'streamed.txt' }));
      assert.equal(await get.Body!.transformToString(), 'hello world');
    } finally {
      await again.smarts3.stop();
    }
  });
});
