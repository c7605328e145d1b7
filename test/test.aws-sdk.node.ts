// The AWS SDK for JavaScript v3 (default settings) against the real rusts3 binary through Smarts3.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { filesBelow, s3Error, startTestServer, storedObject, uniqueBucket, whenDirectory, type ITestServer } from './helpers.js';

let server: ITestServer;
let s3: S3Client;

before(async () => {
  server = await startTestServer('aws-sdk');
  s3 = server.client;
});

after(async () => {
  await server?.stop();
});

const md5 = (data: string | Buffer) => crypto.createHash('md5').update(data).digest('hex');

async function newBucket(): Promise<string> {
  const bucket = uniqueBucket();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function getText(bucket: string, key: string, range?: string) {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return { response, text: await response.Body!.transformToString() };
}

/** A raw HTTP request, for what the SDK hides (headers of errors, HEAD bodies, cut-off uploads). */
function rawRequest(
  method: string,
  urlPath: string,
  options: { headers?: Record<string, string | number>; body?: Buffer } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const url = new URL(urlPath, server.endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('buckets', () => {
  it('creates, lists, heads and deletes buckets', async () => {
    const bucket = uniqueBucket();
    const created = await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    assert.equal(created.Location, `/${bucket}`);
    const listed = await s3.send(new ListBucketsCommand({}));
    const entry = listed.Buckets!.find((b) => b.Name === bucket);
    assert.ok(entry, 'new bucket is listed');
    assert.ok(entry.CreationDate instanceof Date);
    assert.ok(Math.abs(entry.CreationDate.getTime() - Date.now()) < 60_000);
    assert.match(listed.Owner!.ID!, /^[0-9a-f]{64}$/);

    const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    assert.equal(head.$metadata.httpStatusCode, 200);
    assert.equal(head.BucketRegion, 'us-east-1');
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    assert.equal(location.LocationConstraint, undefined);

    // Re-creating your own bucket in us-east-1 succeeds (S3's legacy answer there); elsewhere it
    // is BucketAlreadyOwnedByYou (test.users.node.ts).
    const again = await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    assert.equal(again.$metadata.httpStatusCode, 200);

    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    const gone = await s3Error(s3.send(new HeadBucketCommand({ Bucket: bucket })));
    assert.equal(gone.name, 'NotFound');
    assert.equal(gone.$metadata.httpStatusCode, 404);
    const deleteAgain = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: bucket })));
    assert.equal(deleteAgain.name, 'NoSuchBucket');
  });

  it('keeps a CreateBucketConfiguration\'s LocationConstraint as the bucket\'s region', async () => {
    const bucket = uniqueBucket();
    await s3.send(
      new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }),
    );
    const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    assert.equal(head.BucketRegion, 'eu-west-1');
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    assert.equal(location.LocationConstraint, 'eu-west-1');
    const listed = await s3.send(new ListBucketsCommand({ BucketRegion: 'eu-west-1' }));
    assert.deepEqual(listed.Buckets!.map((b) => [b.Name, b.BucketRegion]), [[bucket, 'eu-west-1']]);
    for (const LocationConstraint of ['us-east-1', 'not a region!']) {
      const refused = await s3Error(
        s3.send(new CreateBucketCommand({ Bucket: uniqueBucket(), CreateBucketConfiguration: { LocationConstraint: LocationConstraint as any } })),
      );
      assert.equal(refused.name, 'InvalidLocationConstraint', LocationConstraint);
      assert.equal(refused.$metadata.httpStatusCode, 400);
    }
  });

  it('rejects invalid bucket names with InvalidBucketName', async () => {
    for (const name of ['ab', 'Upper-Case', 'under_score', 'a..b', '192.168.0.1', '-leading']) {
      const error = await s3Error(s3.send(new CreateBucketCommand({ Bucket: name })));
      assert.equal(error.name, 'InvalidBucketName', name);
      assert.equal(error.$metadata.httpStatusCode, 400);
    }
  });

  it('refuses to delete a bucket that still holds objects', async () => {
    const bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'deep/down/file', Body: 'x' }));
    const error = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: bucket })));
    assert.equal(error.name, 'BucketNotEmpty');
    assert.equal(error.$metadata.httpStatusCode, 409);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'deep/down/file' }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    assert.ok(!fs.existsSync(path.join(server.directory, bucket)));
  });

  it('answers object operations on a missing bucket with NoSuchBucket', async () => {
    const put = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket-here', Key: 'k', Body: 'x' })));
    assert.equal(put.name, 'NoSuchBucket');
    const list = await s3Error(s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket-here' })));
    assert.equal(list.name, 'NoSuchBucket');
  });
});

describe('objects', () => {
  let bucket: string;
  before(async () => {
    bucket = await newBucket();
  });

  it('stores and returns content, standard headers and user metadata', async () => {
    const expires = new Date('2030-01-02T03:04:05Z');
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'docs/hello.txt',
        Body: 'hello',
        ContentType: 'text/plain; charset=utf-8',
        ContentEncoding: 'identity',
        ContentDisposition: 'attachment; filename="hello.txt"',
        ContentLanguage: 'en',
        CacheControl: 'max-age=60',
        Expires: expires,
        Metadata: { author: 'me', 'mixed-case': 'Value With Spaces' },
      }),
    );
    assert.equal(put.ETag, `"${md5('hello')}"`);
    const { response, text } = await getText(bucket, 'docs/hello.txt');
    assert.equal(text, 'hello');
    assert.equal(response.ETag, `"${md5('hello')}"`);
    assert.equal(response.ContentType, 'text/plain; charset=utf-8');
    assert.equal(response.ContentEncoding, 'identity');
    assert.equal(response.ContentDisposition, 'attachment; filename="hello.txt"');
    assert.equal(response.ContentLanguage, 'en');
    assert.equal(response.CacheControl, 'max-age=60');
    assert.equal(response.Expires?.getTime(), expires.getTime());
    assert.deepEqual(response.Metadata, { author: 'me', 'mixed-case': 'Value With Spaces' });
    assert.equal(response.ContentLength, 5);
    assert.equal(response.AcceptRanges, 'bytes');
    assert.ok(response.LastModified instanceof Date);
    assert.ok(Math.abs(response.LastModified.getTime() - Date.now()) < 60_000);

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/hello.txt' }));
    assert.equal(head.ContentLength, 5);
    assert.equal(head.ETag, `"${md5('hello')}"`);
    assert.equal(head.ContentType, 'text/plain; charset=utf-8');
    assert.deepEqual(head.Metadata, { author: 'me', 'mixed-case': 'Value With Spaces' });

    // What landed on disk: one version record naming the data file, in the documented layout.
    const stored = storedObject(server.directory, bucket, 'docs/hello.txt')!;
    assert.equal(fs.readFileSync(stored.dataPath, 'utf8'), 'hello');
    assert.equal(stored.record.etag, md5('hello'));
    assert.equal(stored.record.version_id, 'null');
    assert.equal(stored.record.metadata.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(stored.record.metadata.headers['x-amz-meta-author'], 'me');
  });

  it('applies response-* overrides on GET', async () => {
    const get = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'docs/hello.txt',
        ResponseContentType: 'application/x-test',
        ResponseContentDisposition: 'inline',
        ResponseCacheControl: 'no-store',
      }),
    );
    assert.equal(get.ContentType, 'application/x-test');
    assert.equal(get.ContentDisposition, 'inline');
    assert.equal(get.CacheControl, 'no-store');
    assert.equal(await get.Body!.transformToString(), 'hello');
  });

  it('defaults the content type to binary/octet-stream', async () => {
    await rawRequest('PUT', `/${bucket}/untyped`, { body: Buffer.from('abc') });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'untyped' }));
    assert.equal(head.ContentType, 'binary/octet-stream');
  });

  it('overwrites an object with a new version', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: 'first', Metadata: { v: '1' } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: 'second!' }));
    const { response, text } = await getText(bucket, 'over');
    assert.equal(text, 'second!');
    assert.equal(response.ETag, `"${md5('second!')}"`);
    assert.deepEqual(response.Metadata, {});
  });

  it('never pairs one version\'s metadata with another\'s data under concurrent overwrites', async () => {
    const versions = [
      { body: 'a'.repeat(1_000), tag: 'a' },
      { body: 'b'.repeat(300_000), tag: 'b' },
    ];
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'racy', Body: versions[0].body, Metadata: { tag: 'a' } }));
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 60; i++) {
        const v = versions[i % 2];
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'racy', Body: v.body, Metadata: { tag: v.tag } }));
      }
      writing = false;
    })();
    let reads = 0;
    const reader = async () => {
      while (writing && reads < 2_000) {
        const { response, text } = await getText(bucket, 'racy');
        reads++;
        assert.equal(response.ETag, `"${md5(text)}"`);
        assert.equal(response.Metadata!.tag, text[0]);
        assert.equal(response.ContentLength, text.length);
      }
    };
    await Promise.all([writer, reader(), reader(), reader()]);
    assert.ok(reads > 0);
  });

  it('reports missing keys as NoSuchKey (GET) and NotFound (HEAD)', async () => {
    const get = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' })));
    assert.equal(get.name, 'NoSuchKey');
    assert.equal(get.$metadata.httpStatusCode, 404);
    const head = await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' })));
    assert.equal(head.name, 'NotFound');
    assert.equal(head.$metadata.httpStatusCode, 404);
  });

  it('renders errors as S3 XML whose RequestId matches the header, and HEAD errors without a body', async () => {
    const get = await rawRequest('GET', `/${bucket}/missing-key`);
    assert.equal(get.status, 404);
    assert.equal(get.headers['content-type'], 'application/xml');
    const requestId = get.headers['x-amz-request-id'] as string;
    assert.match(requestId, /^[0-9A-F]{16}$/);
    assert.ok(get.headers['x-amz-id-2']);
    assert.match(get.body, /<Error><Code>NoSuchKey<\/Code><Message>[^<]+<\/Message><Key>missing-key<\/Key>/);
    assert.ok(get.body.includes(`<RequestId>${requestId}</RequestId>`));
    assert.ok(get.body.includes(`<Resource>/${bucket}/missing-key</Resource>`));

    const head = await rawRequest('HEAD', `/${bucket}/missing-key`);
    assert.equal(head.status, 404);
    assert.equal(head.body, '');
    assert.ok(head.headers['x-amz-request-id']);

    const ok = await rawRequest('GET', `/${bucket}/docs/hello.txt`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers['x-amz-request-id'] as string, /^[0-9A-F]{16}$/);
    assert.match(ok.headers['last-modified'] as string, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });

  it('deletes objects idempotently with 204', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b/c/to-delete', Body: 'x' }));
    const first = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a/b/c/to-delete' }));
    assert.equal(first.$metadata.httpStatusCode, 204);
    const second = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a/b/c/to-delete' }));
    assert.equal(second.$metadata.httpStatusCode, 204);
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'a/b/c/to-delete' })))).name, 'NotFound');
    // Emptied key directories are pruned.
    assert.ok(!fs.existsSync(path.join(server.directory, bucket, 'a')));
  });

  it('round-trips hostile and unusual keys, never writing outside the bucket', async () => {
    const keys = [
      'a b+c%d ü.txt',
      'x//y',
      'dir/',
      '../escape.txt',
      '../../escape2.txt',
      'a/./b',
      'a/../b',
      '.',
      '..',
      'k._S3_object',
      'k._S3_object/inner',
      'emoji/😀.bin',
      `long/${'L'.repeat(400)}`,
      'a',
      'a/b',
    ];
    const hostile = await newBucket();
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: hostile, Key: key, Body: `body of ${key}` }));
    }
    for (const key of keys) {
      const { text } = await getText(hostile, key);
      assert.equal(text, `body of ${key}`, key);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: hostile }));
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(listed.Contents!.map((c) => c.Key), expected);
    // Everything stayed inside the storage root, in this bucket's directory.
    const root = server.directory;
    assert.deepEqual(
      fs.readdirSync(path.dirname(root)).filter((n) => n.includes('escape')),
      [],
    );
    // The '../' keys must land inside the bucket's own directory, not beside it in the root.
    const escapes = filesBelow(root).filter((file) => file.includes('escape'));
    assert.ok(escapes.length >= 2, `the escape keys are on disk: ${escapes.join(', ')}`);
    for (const file of escapes) {
      assert.ok(file.startsWith(`${hostile}${path.sep}`), `${file} is inside ${hostile}/`);
    }
    for (const key of keys) {
      await s3.send(new DeleteObjectCommand({ Bucket: hostile, Key: key }));
    }
    const empty = await s3.send(new ListObjectsV2Command({ Bucket: hostile }));
    assert.equal(empty.KeyCount, 0);
    await s3.send(new DeleteBucketCommand({ Bucket: hostile }));
  });

  it('rejects over-long keys and oversized metadata', async () => {
    const longKey = await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' })));
    assert.equal(longKey.name, 'KeyTooLongError');
    const bigMeta = await s3Error(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta', Body: 'x', Metadata: { big: 'v'.repeat(2100) } })),
    );
    assert.equal(bigMeta.name, 'MetadataTooLarge');
  });
});

describe('range reads', () => {
  let bucket: string;
  before(async () => {
    bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'digits', Body: '0123456789' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: '' }));
  });

  it('serves bytes=a-b, a-, -n with 206 and Content-Range', async () => {
    const cases: [string, string, string][] = [
      ['bytes=0-3', '0123', 'bytes 0-3/10'],
      ['bytes=7-', '789', 'bytes 7-9/10'],
      ['bytes=-2', '89', 'bytes 8-9/10'],
      ['bytes=5-100', '56789', 'bytes 5-9/10'],
      ['bytes=-50', '0123456789', 'bytes 0-9/10'],
    ];
    for (const [range, body, contentRange] of cases) {
      const { response, text } = await getText(bucket, 'digits', range);
      assert.equal(response.$metadata.httpStatusCode, 206, range);
      assert.equal(text, body, range);
      assert.equal(response.ContentRange, contentRange, range);
      assert.equal(response.ContentLength, body.length, range);
    }
  });

  it('answers unsatisfiable ranges with 416 InvalidRange and ignores malformed ones', async () => {
    const error = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'digits', Range: 'bytes=10-' })));
    assert.equal(error.name, 'InvalidRange');
    assert.equal(error.$metadata.httpStatusCode, 416);
    const raw = await rawRequest('GET', `/${bucket}/digits`, { headers: { range: 'bytes=20-30' } });
    assert.equal(raw.status, 416);
    assert.equal(raw.headers['content-range'], 'bytes */10');
    const empty = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty', Range: 'bytes=0-' })));
    assert.equal(empty.name, 'InvalidRange');
    const malformed = await getText(bucket, 'digits', 'bytes=oops');
    assert.equal(malformed.response.$metadata.httpStatusCode, 200);
    assert.equal(malformed.text, '0123456789');
  });
});

describe('what today\'s SDK sends: aws-chunked bodies and flexible checksums', () => {
  let bucket: string;
  before(async () => {
    bucket = await newBucket();
  });

  it('decodes aws-chunked stream uploads and stores only the payload', async () => {
    const body = Readable.from([Buffer.from('hello '), Buffer.from('streaming '), Buffer.from('world')]);
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'streamed.txt', Body: body, ContentLength: 21, ContentType: 'text/plain' }),
    );
    assert.equal(put.ETag, `"${md5('hello streaming world')}"`);
    assert.ok(put.ChecksumCRC32, 'the SDK sent a CRC32 trailer and the server echoed it');
    const { response, text } = await getText(bucket, 'streamed.txt');
    assert.equal(text, 'hello streaming world');
    assert.equal(response.ContentEncoding, undefined);
    const stored = storedObject(server.directory, bucket, 'streamed.txt')!;
    assert.equal(fs.readFileSync(stored.dataPath, 'utf8'), 'hello streaming world');
    assert.ok(!JSON.stringify(stored.record).includes('aws-chunked'));
  });

  it('verifies, stores and returns each checksum algorithm', async () => {
    for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
      const key = `checksum-${algorithm}`;
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'checksum me', ChecksumAlgorithm: algorithm }),
      );
      const field = `Checksum${algorithm}` as const;
      assert.ok(put[field], `${algorithm} echoed on PUT`);
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(get[field], put[field], `${algorithm} returned on GET`);
      assert.equal(await get.Body!.transformToString(), 'checksum me');
      const ranged = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED', Range: 'bytes=0-3' }),
      );
      assert.equal(ranged[field], undefined, 'no whole-object checksum on a range');
      await ranged.Body!.transformToString();
    }
  });

  it('rejects a wrong checksum or Content-MD5 with BadDigest and keeps the old object', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'guarded', Body: 'original' }));
    const wrongCrc = await s3Error(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'guarded', Body: 'replacement', ChecksumCRC32: 'AAAAAA==' })),
    );
    assert.equal(wrongCrc.name, 'BadDigest');
    assert.equal(wrongCrc.$metadata.httpStatusCode, 400);
    const wrongMd5 = await rawRequest('PUT', `/${bucket}/guarded`, {
      headers: { 'content-md5': crypto.createHash('md5').update('other').digest('base64') },
      body: Buffer.from('replacement'),
    });
    assert.equal(wrongMd5.status, 400);
    assert.match(wrongMd5.body, /<Code>BadDigest<\/Code>/);
    const badMd5 = await rawRequest('PUT', `/${bucket}/guarded`, {
      headers: { 'content-md5': 'not-base64!' },
      body: Buffer.from('replacement'),
    });
    assert.match(badMd5.body, /<Code>InvalidDigest<\/Code>/);
    assert.equal((await getText(bucket, 'guarded')).text, 'original');
  });

  it('keeps the previous object when an upload is cut off, and leaves no litter', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'survivor', Body: 'old content' }));
    const tmpDir = path.join(server.directory, '.tmp');
    await new Promise<void>((resolve) => {
      const url = new URL(`/${bucket}/survivor`, server.endpoint);
      const req = http.request(url, { method: 'PUT', headers: { 'content-length': 1_000_000 } });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      // Cut the upload once the server is demonstrably inside it: its temp file exists.
      req.write(Buffer.alloc(100_000, 1), () =>
        whenDirectory(tmpDir, (entries) => entries.length > 0, 10_000, 'the upload reaching the server').then(
          () => req.destroy(),
          () => req.destroy(),
        ),
      );
    });
    // The server notices the cut and removes its temp file.
    await whenDirectory(tmpDir, (entries) => entries.length === 0, 10_000, 'the temp file going');
    assert.equal((await getText(bucket, 'survivor')).text, 'old content');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'survivor' }));
    assert.deepEqual(listed.Contents!.map((c) => [c.Key, c.Size]), [['survivor', 11]]);
  });

  it('streams a 64 MiB object up and down intact (checked by hash)', async () => {
    const size = 64 * 1024 * 1024;
    const chunk = 1024 * 1024;
    const upHash = crypto.createHash('sha256');
    let seed = 7;
    const source = Readable.from(
      (function* () {
        for (let sent = 0; sent < size; sent += chunk) {
          const block = Buffer.alloc(chunk);
          for (let i = 0; i < chunk; i += 4) {
            seed = (seed * 1103515245 + 12345) >>> 0;
            block.writeUInt32LE(seed, i);
          }
          upHash.update(block);
          yield block;
        }
      })(),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: source, ContentLength: size }));
    const expected = upHash.digest('hex');
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    assert.equal(get.ContentLength, size);
    const downHash = crypto.createHash('sha256');
    for await (const part of get.Body as Readable) downHash.update(part);
    assert.equal(downHash.digest('hex'), expected);
    assert.equal(fs.statSync(storedObject(server.directory, bucket, 'big.bin')!.dataPath).size, size);
  });
});

describe('listing', () => {
  let bucket: string;
  const keys: string[] = [];
  before(async () => {
    bucket = await newBucket();
    for (let i = 0; i < 1100; i++) keys.push(`many/${String(i).padStart(4, '0')}`);
    keys.push('a', 'a.b', 'a/b', 'a/c/d', 'a-b', 'b', 'photos/2024/jan.jpg', 'photos/2025/feb.jpg', 'z');
    const queue = [...keys];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
        }
      }),
    );
    keys.sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  });

  it('pages ListObjectsV2 over more than 1000 keys in UTF-8 byte order', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      pages++;
      seen.push(...page.Contents!.map((c) => c.Key!));
      assert.equal(page.KeyCount, page.Contents!.length);
      if (page.IsTruncated) assert.ok(page.NextContinuationToken);
      else assert.equal(page.NextContinuationToken, undefined);
      token = page.NextContinuationToken;
    } while (token && pages < 10);
    assert.equal(pages, 2);
    assert.deepEqual(seen, keys);
    assert.ok(seen.indexOf('a.b') < seen.indexOf('a/b'), 'a.b sorts before a/b');
  });

  it('returns object details in listings', async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a.b' }));
    const [entry] = page.Contents!;
    assert.equal(entry.Key, 'a.b');
    assert.equal(entry.Size, 3);
    assert.equal(entry.ETag, `"${md5('a.b')}"`);
    assert.equal(entry.StorageClass, 'STANDARD');
    assert.ok(entry.LastModified instanceof Date);
  });

  it('rolls keys up into CommonPrefixes with a delimiter, paginated with max-keys', async () => {
    const top = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    assert.deepEqual(top.Contents!.map((c) => c.Key), ['a', 'a-b', 'a.b', 'b', 'z']);
    assert.deepEqual(top.CommonPrefixes!.map((p) => p.Prefix), ['a/', 'many/', 'photos/']);
    assert.equal(top.KeyCount, 8);
    assert.equal(top.Delimiter, '/');

    const entries: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', MaxKeys: 2, ContinuationToken: token }),
      );
      assert.ok(page.KeyCount! <= 2);
      entries.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      token = page.NextContinuationToken;
      if (!page.IsTruncated) break;
    }
    assert.deepEqual(entries.sort(), ['a', 'a-b', 'a.b', 'a/', 'b', 'many/', 'photos/', 'z'].sort());

    const photos = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', Prefix: 'photos/' }));
    assert.equal(photos.Prefix, 'photos/');
    assert.deepEqual(photos.CommonPrefixes!.map((p) => p.Prefix), ['photos/2024/', 'photos/2025/']);
    assert.equal(photos.Contents, undefined);
  });

  it('honours start-after and prefix', async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: 'many/1097' }));
    assert.deepEqual(page.Contents!.slice(0, 3).map((c) => c.Key), ['many/1098', 'many/1099', 'photos/2024/jan.jpg']);
    assert.equal(page.StartAfter, 'many/1097');
    const prefixed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a/' }));
    assert.deepEqual(prefixed.Contents!.map((c) => c.Key), ['a/b', 'a/c/d']);
  });

  it('pages ListObjects v1 with Marker and NextMarker', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await s3.send(new ListObjectsCommand({ Bucket: bucket, Marker: marker, MaxKeys: 500 }));
      seen.push(...page.Contents!.map((c) => c.Key!));
      if (!page.IsTruncated) break;
      marker = page.NextMarker ?? page.Contents!.at(-1)!.Key;
    }
    assert.deepEqual(seen, keys);

    const first = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 3 }));
    assert.equal(first.IsTruncated, true);
    assert.deepEqual(first.Contents!.map((c) => c.Key), ['a', 'a-b', 'a.b']);
    assert.equal(first.NextMarker, 'a.b');
    const second = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: '/', MaxKeys: 3, Marker: first.NextMarker }));
    assert.deepEqual(second.CommonPrefixes!.map((p) => p.Prefix), ['a/', 'many/']);
    assert.deepEqual(second.Contents!.map((c) => c.Key), ['b']);
    assert.equal(second.NextMarker, 'many/');
  });

  it('URL-encodes keys and prefixes when asked to, and echoes EncodingType', async () => {
    const odd = await newBucket();
    for (const key of ['sp ace/x', 'plus+sign', 'pct%25', 'ü']) {
      await s3.send(new PutObjectCommand({ Bucket: odd, Key: key, Body: 'x' }));
    }
    const raw = await rawRequest('GET', `/${odd}?list-type=2&delimiter=%2F&encoding-type=url`);
    assert.match(raw.body, /<EncodingType>url<\/EncodingType>/);
    assert.match(raw.body, /<Key>pct%2525<\/Key>/);
    assert.match(raw.body, /<Key>plus%2Bsign<\/Key>/);
    assert.match(raw.body, /<Key>%C3%BC<\/Key>/);
    assert.match(raw.body, /<CommonPrefixes><Prefix>sp%20ace\/<\/Prefix><\/CommonPrefixes>/);
    const plain = await rawRequest('GET', `/${odd}?list-type=2`);
    assert.ok(!plain.body.includes('EncodingType'));
    assert.match(plain.body, /<Key>sp ace\/x<\/Key>/);
  });

  it('rejects an invalid max-keys with InvalidArgument', async () => {
    const raw = await rawRequest('GET', `/${bucket}?list-type=2&max-keys=abc`);
    assert.equal(raw.status, 400);
    assert.match(raw.body, /<Code>InvalidArgument<\/Code>/);
  });
});
