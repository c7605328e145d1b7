// Object and listing semantics in the corners, through the AWS SDK v3: copy, multi-delete,
// conditional requests, tagging, attributes, versions of unversioned buckets, bucket listing,
// virtual-hosted-style addressing and S3's error answers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  DeleteObjectsCommand,
  GetBucketRequestPaymentCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { s3Error, startTestServer, uniqueBucket, type ITestServer } from './helpers.js';

let server: ITestServer;
let s3: S3Client;

before(async () => {
  server = await startTestServer('semantics', { multipart: { minPartSize: 1 } });
  s3 = server.client;
});
after(async () => server?.stop());

const md5 = (data: string | Buffer) => crypto.createHash('md5').update(data).digest('hex');

async function newBucket(prefix = 'sem'): Promise<string> {
  const bucket = uniqueBucket(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function text(bucket: string, key: string): Promise<string> {
  const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return get.Body!.transformToString();
}

function raw(
  method: string,
  urlPath: string,
  headers: Record<string, string | number> = {},
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const url = new URL(urlPath, server.endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('CopyObject', () => {
  let bucket: string;
  before(async () => {
    bucket = await newBucket('copy');
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'dir/source file+ü.txt',
        Body: 'copy me',
        ContentType: 'text/plain',
        Metadata: { a: '1' },
        Tagging: 'team=storage',
      }),
    );
  });

  it('copies data, metadata and tags (COPY directive), across buckets too', async () => {
    const other = await newBucket('copy-dst');
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: other, Key: 'copy.txt', CopySource: `${bucket}/dir/source file+ü.txt`, Metadata: { ignored: 'yes' } }),
    );
    assert.equal(copied.CopyObjectResult!.ETag, `"${md5('copy me')}"`);
    assert.ok(copied.CopyObjectResult!.LastModified instanceof Date);
    const head = await s3.send(new HeadObjectCommand({ Bucket: other, Key: 'copy.txt' }));
    assert.equal(head.ContentType, 'text/plain');
    assert.deepEqual(head.Metadata, { a: '1' });
    assert.equal(head.LastModified!.getTime(), Math.floor(copied.CopyObjectResult!.LastModified!.getTime() / 1000) * 1000);
    assert.equal(await text(other, 'copy.txt'), 'copy me');
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: other, Key: 'copy.txt' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'team', Value: 'storage' }]);
  });

  it('accepts a URL-encoded copy source and replaces metadata and tags on request', async () => {
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'replaced.txt',
        CopySource: encodeURIComponent(`${bucket}/dir/source file+ü.txt`),
        MetadataDirective: 'REPLACE',
        ContentType: 'application/x-new',
        Metadata: { b: '2' },
        TaggingDirective: 'REPLACE',
        Tagging: 'fresh=tag',
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'replaced.txt' }));
    assert.equal(head.ContentType, 'application/x-new');
    assert.deepEqual(head.Metadata, { b: '2' });
    assert.equal(head.TagCount, 1);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'replaced.txt' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'fresh', Value: 'tag' }]);
  });

  it('copies an object onto itself only when something changes', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'self', Body: 'same', Metadata: { v: 'old' } }));
    const refused = await s3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self` })));
    assert.equal(refused.name, 'InvalidRequest');
    assert.equal(refused.$metadata.httpStatusCode, 400);
    await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self`, MetadataDirective: 'REPLACE', Metadata: { v: 'new' } }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self' }));
    assert.deepEqual(head.Metadata, { v: 'new' });
    assert.equal(await text(bucket, 'self'), 'same');
  });

  it('evaluates x-amz-copy-source-if-* conditions', async () => {
    const etag = `"${md5('copy me')}"`;
    const source = `${bucket}/dir/source file+ü.txt`;
    const past = new Date(Date.now() - 3_600_000);
    const future = new Date(Date.now() + 3_600_000);
    const ok = [
      { CopySourceIfMatch: etag },
      { CopySourceIfNoneMatch: '"other"' },
      { CopySourceIfModifiedSince: past },
      { CopySourceIfUnmodifiedSince: future },
    ];
    for (const condition of ok) {
      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'conditional', CopySource: source, ...condition }));
    }
    const failing = [
      { CopySourceIfMatch: '"other"' },
      { CopySourceIfNoneMatch: etag },
      { CopySourceIfModifiedSince: future },
      { CopySourceIfUnmodifiedSince: past },
    ];
    for (const condition of failing) {
      const error = await s3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'conditional', CopySource: source, ...condition })));
      assert.equal(error.name, 'PreconditionFailed', JSON.stringify(condition));
      assert.equal(error.$metadata.httpStatusCode, 412);
    }
  });

  it('reports a missing source and a bad directive', async () => {
    const missing = await s3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/nope` })));
    assert.equal(missing.name, 'NoSuchKey');
    const noBucket = await s3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: 'no-such-bucket-zz/nope' })));
    assert.equal(noBucket.name, 'NoSuchBucket');
    const bad = await raw('PUT', `/${bucket}/x`, { 'x-amz-copy-source': `${bucket}/self`, 'x-amz-metadata-directive': 'MERGE' });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /<Code>InvalidArgument<\/Code>/);
  });

  it('copies a multipart object as a single part, streaming', async () => {
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp-source' }));
    const parts = [crypto.randomBytes(300_000), crypto.randomBytes(123)];
    const done = [];
    for (const [i, Body] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp-source', UploadId: created.UploadId, PartNumber: i + 1, Body }));
      done.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp-source', UploadId: created.UploadId, MultipartUpload: { Parts: done } }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'mp-copy', CopySource: `${bucket}/mp-source` }));
    assert.equal(copied.CopyObjectResult!.ETag, `"${md5(Buffer.concat(parts))}"`);
  });
});

describe('DeleteObjects', () => {
  it('deletes many keys, reports missing ones as deleted, and honours Quiet', async () => {
    const bucket = await newBucket('multidel');
    const keys = Array.from({ length: 30 }, (_, i) => `k/${i} & <${i}>`);
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }));
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [...keys, 'never-existed'].map((Key) => ({ Key })) } }),
    );
    assert.deepEqual(result.Deleted!.map((d) => d.Key).sort(), [...keys, 'never-existed'].sort());
    assert.equal(result.Errors, undefined);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.equal(listed.KeyCount, 0);

    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'quiet', Body: 'x' }));
    const quiet = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Quiet: true, Objects: [{ Key: 'quiet' }, { Key: 'bad-version', VersionId: 'abc' }] } }),
    );
    assert.equal(quiet.Deleted, undefined);
    assert.deepEqual(quiet.Errors!.map((e) => [e.Key, e.Code]), [['bad-version', 'InvalidArgument']]);
    const nullVersion = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'quiet', VersionId: 'null' }] } }),
    );
    assert.deepEqual(nullVersion.Deleted!.map((d) => [d.Key, d.VersionId]), [['quiet', 'null']]);
  });

  it('answers MalformedXML for bad bodies and more than 1000 keys', async () => {
    const bucket = await newBucket('multidel-bad');
    const garbage = await raw('POST', `/${bucket}?delete`, { 'content-type': 'application/xml' }, '<Delete><Object>');
    assert.equal(garbage.status, 400);
    assert.match(garbage.body, /<Code>MalformedXML<\/Code>/);
    const tooMany = await s3Error(
      s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: Array.from({ length: 1001 }, (_, i) => ({ Key: `k${i}` })) } })),
    );
    assert.equal(tooMany.name, 'MalformedXML');
  });
});

describe('conditional requests', () => {
  let bucket: string;
  let etag: string;
  let lastModified: Date;
  before(async () => {
    bucket = await newBucket('cond');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'c', Body: 'conditional' }));
    etag = put.ETag!;
    lastModified = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'c' }))).LastModified!;
  });

  it('answers GET and HEAD with 304 and 412 by S3\'s precedence rules', async () => {
    const later = new Date(lastModified.getTime() + 60_000);
    const earlier = new Date(lastModified.getTime() - 60_000);
    const get = (extra: Record<string, unknown>) => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'c', ...extra }));
    assert.equal(await (await get({ IfMatch: etag })).Body!.transformToString(), 'conditional');
    assert.equal((await s3Error(get({ IfMatch: '"nope"' }))).$metadata.httpStatusCode, 412);
    assert.equal((await s3Error(get({ IfNoneMatch: etag }))).$metadata.httpStatusCode, 304);
    assert.equal((await s3Error(get({ IfModifiedSince: later }))).$metadata.httpStatusCode, 304);
    assert.equal((await s3Error(get({ IfUnmodifiedSince: earlier }))).$metadata.httpStatusCode, 412);
    await (await get({ IfModifiedSince: earlier })).Body!.transformToString();
    // If-Match true + If-Unmodified-Since false → 200; If-None-Match false + If-Modified-Since false → 200.
    await (await get({ IfMatch: etag, IfUnmodifiedSince: earlier })).Body!.transformToString();
    await (await get({ IfNoneMatch: '"other"', IfModifiedSince: later })).Body!.transformToString();
    const head = await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'c', IfNoneMatch: etag })));
    assert.equal(head.$metadata.httpStatusCode, 304);
    const notModified = await raw('GET', `/${bucket}/c`, { 'if-none-match': etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.etag, etag);
    assert.equal(notModified.body, '');
  });

  it('makes PUT conditional with If-None-Match: * and If-Match', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'first', IfNoneMatch: '*' }));
    const again = await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'second', IfNoneMatch: '*' })));
    assert.equal(again.name, 'PreconditionFailed');
    assert.equal(await text(bucket, 'once'), 'first');
    const wrong = await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'x', IfMatch: '"0000"' })));
    assert.equal(wrong.name, 'PreconditionFailed');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'third', IfMatch: first.ETag }));
    assert.equal(await text(bucket, 'once'), 'third');
    const absent = await s3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'absent', Body: 'x', IfMatch: first.ETag })));
    assert.equal(absent.name, 'NoSuchKey');
  });
});

describe('tagging', () => {
  let bucket: string;
  before(async () => {
    bucket = await newBucket('tags');
  });

  it('puts, gets and deletes object tags, and counts them on GET/HEAD', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 't', Body: 'x', Tagging: 'a=1&b=two%20words' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 't' }));
    assert.equal(head.TagCount, 2);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 't' }))).TagSet, [
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: 'two words' },
    ]);
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 't', Tagging: { TagSet: [{ Key: 'only', Value: 'one' }] } }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 't' }));
    assert.equal(get.TagCount, 1);
    await get.Body!.transformToString();
    const deleted = await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 't' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 't' }))).TagSet, []);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 't' }))).TagCount, undefined);
    // Tagging does not touch the data or its ETag.
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 't' }))).ETag, `"${md5('x')}"`);
  });

  it('enforces S3\'s tag limits with InvalidTag', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'limits', Body: 'x' }));
    const tagSets = [
      Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
      [{ Key: 'k'.repeat(129), Value: 'v' }],
      [{ Key: 'k', Value: 'v'.repeat(257) }],
      [{ Key: 'dup', Value: '1' }, { Key: 'dup', Value: '2' }],
      [{ Key: 'aws:reserved', Value: 'v' }],
    ];
    for (const TagSet of tagSets) {
      const error = await s3Error(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'limits', Tagging: { TagSet } })));
      assert.equal(error.name, 'InvalidTag', JSON.stringify(TagSet).slice(0, 60));
    }
    const header = await s3Error(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'limits', Body: 'x', Tagging: Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&') })),
    );
    assert.equal(header.name, 'InvalidTag');
    const missing = await s3Error(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'nope' })));
    assert.equal(missing.name, 'NoSuchKey');
  });

  it('keeps bucket tags', async () => {
    const none = await s3Error(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })));
    assert.equal(none.name, 'NoSuchTagSet');
    assert.equal(none.$metadata.httpStatusCode, 404);
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'env', Value: 'test' }] } }));
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet, [{ Key: 'env', Value: 'test' }]);
    await s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
    assert.equal((await s3Error(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })))).name, 'NoSuchTagSet');
  });
});

describe('object attributes, parts and headers', () => {
  let bucket: string;
  before(async () => {
    bucket = await newBucket('attrs');
  });

  it('answers GetObjectAttributes for single and multipart objects', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single', Body: 'attributes', ChecksumAlgorithm: 'SHA256' }));
    const single = await s3.send(
      new GetObjectAttributesCommand({ Bucket: bucket, Key: 'single', ObjectAttributes: ['ETag', 'Checksum', 'ObjectSize', 'StorageClass', 'ObjectParts'] }),
    );
    assert.equal(single.ETag, md5('attributes'));
    assert.equal(single.ObjectSize, 10);
    assert.equal(single.StorageClass, 'STANDARD');
    assert.equal(single.Checksum!.ChecksumSHA256, crypto.createHash('sha256').update('attributes').digest('base64'));
    assert.equal(single.ObjectParts, undefined);
    assert.ok(single.LastModified instanceof Date);

    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multi' }));
    const sizes = [1000, 2000, 30];
    const done = [];
    for (const [i, size] of sizes.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'multi', UploadId: created.UploadId, PartNumber: i + 1, Body: Buffer.alloc(size, i + 1) }),
      );
      done.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'multi', UploadId: created.UploadId, MultipartUpload: { Parts: done } }));
    const multi = await s3.send(
      new GetObjectAttributesCommand({ Bucket: bucket, Key: 'multi', ObjectAttributes: ['ObjectParts', 'ObjectSize'], MaxParts: 2 }),
    );
    assert.equal(multi.ObjectSize, 3030);
    assert.equal(multi.ObjectParts!.TotalPartsCount, 3);
    assert.equal(multi.ObjectParts!.IsTruncated, true);
    assert.deepEqual(multi.ObjectParts!.Parts!.map((p) => [p.PartNumber, p.Size]), [[1, 1000], [2, 2000]]);

    // partNumber reads serve one part, with the part count.
    const part2 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'multi', PartNumber: 2 }));
    assert.equal(part2.$metadata.httpStatusCode, 206);
    assert.equal(part2.PartsCount, 3);
    assert.equal(part2.ContentRange, 'bytes 1000-2999/3030');
    assert.deepEqual(Buffer.from(await part2.Body!.transformToByteArray()), Buffer.alloc(2000, 2));
    const headPart = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multi', PartNumber: 3 }));
    assert.equal(headPart.ContentLength, 30);
    const beyond = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'multi', PartNumber: 4 })));
    assert.equal(beyond.name, 'InvalidPartNumber');
    assert.equal(beyond.$metadata.httpStatusCode, 416);
    const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'single', PartNumber: 1 }));
    assert.equal(await whole.Body!.transformToString(), 'attributes');
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'single', PartNumber: 2 })))).name, 'InvalidPartNumber');
  });

  it('keeps the storage class an object is written with, and reports it everywhere', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'class/ia', Body: 'x', StorageClass: 'STANDARD_IA' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'class/standard', Body: 'x', StorageClass: 'STANDARD' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'class/none', Body: 'x' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'class/ia' }));
    assert.equal(head.StorageClass, 'STANDARD_IA');
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'class/ia' }))).StorageClass, 'STANDARD_IA');
    // S3 sends no x-amz-storage-class for STANDARD objects.
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'class/standard' }))).StorageClass, undefined);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'class/' }));
    assert.deepEqual(listed.Contents!.map((c) => [c.Key, c.StorageClass]), [['class/ia', 'STANDARD_IA'], ['class/none', 'STANDARD'], ['class/standard', 'STANDARD']]);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'class/ia' }));
    assert.equal(versions.Versions![0].StorageClass, 'STANDARD_IA');
    const attributes = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'class/ia', ObjectAttributes: ['StorageClass'] }));
    assert.equal(attributes.StorageClass, 'STANDARD_IA');

    // A copy is STANDARD unless the request names a class; naming one is a change, so an object may be copied onto itself.
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'class/copy', CopySource: `${bucket}/class/ia` }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'class/copy' }))).StorageClass, undefined);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'class/ia', CopySource: `${bucket}/class/ia`, StorageClass: 'GLACIER' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'class/ia' }))).StorageClass, 'GLACIER');

    // Multipart: the class given at create, in the upload listings and on the object.
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'class/mp', StorageClass: 'ONEZONE_IA' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'class/mp', UploadId: upload.UploadId, PartNumber: 1, Body: 'part' }));
    const uploads = await raw('GET', `/${bucket}?uploads&prefix=class/`);
    assert.match(uploads.body, /<StorageClass>ONEZONE_IA<\/StorageClass>/);
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'class/mp', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'class/mp' }))).StorageClass, 'ONEZONE_IA');

    const bad = await raw('PUT', `/${bucket}/bad-class`, { 'x-amz-storage-class': 'CHEAPEST', 'content-length': 1 }, 'x');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /<Code>InvalidStorageClass<\/Code>/);
    const badCopy = await s3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'class/x', CopySource: `${bucket}/class/none`, StorageClass: 'CHEAPEST' as any })));
    assert.equal(badCopy.name, 'InvalidStorageClass');
  });
});

describe('answers as S3 gives them', () => {
  it('treats a body as aws-chunked only when x-amz-content-sha256 says so', async () => {
    const bucket = await newBucket('encoding');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gz', Body: 'plain bytes', ContentEncoding: 'gzip, aws-chunked' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'gz' }));
    assert.equal(await got.Body!.transformToString(), 'plain bytes');
    assert.equal(got.ContentEncoding, 'gzip', 'aws-chunked is never stored');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'only', Body: 'x', ContentEncoding: 'aws-chunked' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'only' }))).ContentEncoding, undefined);
  });

  it('echoes an empty continuation token and returns tags in key order', async () => {
    const bucket = await newBucket('echo');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', Tagging: 'foo=bar&bar' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: '' }));
    assert.equal(listed.ContinuationToken, '');
    assert.deepEqual(listed.Contents!.map((c) => c.Key), ['k']);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'k' }));
    assert.deepEqual(tags.TagSet, [
      { Key: 'bar', Value: '' },
      { Key: 'foo', Value: 'bar' },
    ]);
  });
});

describe('request payment', () => {
  it('answers BucketOwner for every bucket and NoSuchBucket for a missing one', async () => {
    const bucket = await newBucket('payer');
    const payment = await s3.send(new GetBucketRequestPaymentCommand({ Bucket: bucket }));
    assert.equal(payment.Payer, 'BucketOwner');
    const missing = await s3Error(s3.send(new GetBucketRequestPaymentCommand({ Bucket: uniqueBucket('no-payer') })));
    assert.equal(missing.name, 'NoSuchBucket');
  });
});

describe('versions of a never-versioned bucket', () => {
  it('reports no versioning status and lists every object as version null', async () => {
    const bucket = await newBucket('versions');
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    assert.equal(versioning.Status, undefined);
    const keys = ['a', 'b/1', 'b/2', 'c'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }));

    const all = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    assert.deepEqual(all.Versions!.map((v) => [v.Key, v.VersionId, v.IsLatest]), keys.map((k) => [k, 'null', true]));
    assert.equal(all.Versions![0].ETag, `"${md5('a')}"`);
    assert.ok(all.Versions![0].Owner!.ID);

    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 3, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      seen.push(...(page.Versions ?? []).map((v) => v.Key!));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionMarker = page.NextVersionIdMarker;
    }
    assert.deepEqual(seen, keys);
    const grouped = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Delimiter: '/' }));
    assert.deepEqual(grouped.CommonPrefixes!.map((p) => p.Prefix), ['b/']);

    // The usual emptying routine of cleanup tools works on it.
    const versions = all.Versions!.map((v) => ({ Key: v.Key!, VersionId: v.VersionId! }));
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: versions, Quiet: true } }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone', VersionId: 'null' }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    const bad = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a', VersionId: 'abc' })));
    assert.equal(bad.name, 'InvalidArgument');
  });
});

describe('listing edges', () => {
  let bucket: string;
  before(async () => {
    bucket = await newBucket('edges');
    for (const Key of ['a--b--c', 'a--d', 'ab', 'x/y/z', 'x/w']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }));
  });

  it('handles max-keys=0, multi-character delimiters and fetch-owner', async () => {
    const zero = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }));
    assert.equal(zero.KeyCount, 0);
    assert.equal(zero.IsTruncated, false);
    const dashes = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '--' }));
    assert.deepEqual(dashes.CommonPrefixes!.map((p) => p.Prefix), ['a--']);
    assert.deepEqual(dashes.Contents!.map((c) => c.Key), ['ab', 'x/w', 'x/y/z']);
    const nested = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '--', Prefix: 'a--' }));
    assert.deepEqual(nested.CommonPrefixes!.map((p) => p.Prefix), ['a--b--']);
    assert.deepEqual(nested.Contents!.map((c) => c.Key), ['a--d']);
    const owned = await s3.send(new ListObjectsV2Command({ Bucket: bucket, FetchOwner: true, MaxKeys: 1 }));
    assert.ok(owned.Contents![0].Owner!.ID);
    const unowned = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
    assert.equal(unowned.Contents![0].Owner, undefined);
  });

  it('keeps continuation tokens valid while keys come and go', async () => {
    const page1 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 2 }));
    assert.deepEqual(page1.Contents!.map((c) => c.Key), ['a--b--c', 'a--d']);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a--b--c' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'aa', Body: 'x' }));
    const page2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 10, ContinuationToken: page1.NextContinuationToken }));
    assert.deepEqual(page2.Contents!.map((c) => c.Key), ['aa', 'ab', 'x/w', 'x/y/z']);
    const bogus = await s3Error(s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: '!!not a token!!' })));
    assert.equal(bogus.name, 'InvalidArgument');
  });
});

describe('ListBuckets paging', () => {
  it('pages with max-buckets and continuation-token, and filters by prefix and region', async () => {
    const names = ['pg-a-' + process.pid, 'pg-b-' + process.pid, 'pg-c-' + process.pid];
    for (const Bucket of names) await s3.send(new CreateBucketCommand({ Bucket }));
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await s3.send(new ListBucketsCommand({ MaxBuckets: 2, Prefix: 'pg-', ContinuationToken: token }));
      assert.ok(page.Buckets!.length <= 2);
      assert.equal(page.Prefix, 'pg-');
      seen.push(...page.Buckets!.map((b) => b.Name!));
      token = page.ContinuationToken;
      if (!token) break;
    }
    assert.deepEqual(seen, names);
    const elsewhere = await s3.send(new ListBucketsCommand({ BucketRegion: 'eu-central-1' }));
    assert.deepEqual(elsewhere.Buckets, []);
    const here = await s3.send(new ListBucketsCommand({ BucketRegion: 'us-east-1', Prefix: 'pg-a-' }));
    assert.deepEqual(here.Buckets!.map((b) => [b.Name, b.BucketRegion]), [[names[0], 'us-east-1']]);
  });
});

describe('virtual-hosted-style addressing', () => {
  it('serves <bucket>.localhost:<port> alongside path style', async () => {
    const bucket = await newBucket('vhost');
    const port = new URL(server.endpoint).port;
    // *.localhost does not resolve everywhere; send every name to 127.0.0.1.
    const lookup = (_host: string, options: any, callback: any) => {
      if (options?.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    };
    const vhost = new S3Client({
      endpoint: `http://localhost:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      forcePathStyle: false,
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ lookup } as http.AgentOptions) }),
    });
    try {
      await vhost.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/vhost.txt', Body: 'virtual' }));
      assert.equal(await text(bucket, 'dir/vhost.txt'), 'virtual');
      const listed = await vhost.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual(listed.Contents!.map((c) => c.Key), ['dir/vhost.txt']);
      const get = await vhost.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/vhost.txt' }));
      assert.equal(await get.Body!.transformToString(), 'virtual');
    } finally {
      vhost.destroy();
    }
    const byHeader = await raw('GET', '/dir/vhost.txt', { host: `${bucket}.localhost:${port}` });
    assert.equal(byHeader.body, 'virtual');
  });

  it('serves <bucket>.<baseDomain> when a base domain is configured', async () => {
    const custom = await startTestServer('basedomain', { server: { baseDomain: 's3.dev.internal' } });
    try {
      await custom.client.send(new CreateBucketCommand({ Bucket: 'based' }));
      const port = new URL(custom.endpoint).port;
      const put = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, method: 'PUT', path: '/k.txt', headers: { host: `based.s3.dev.internal:${port}`, 'content-length': 4 } },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.end('base');
      });
      assert.equal(put, 200);
      const get = await custom.client.send(new GetObjectCommand({ Bucket: 'based', Key: 'k.txt' }));
      assert.equal(await get.Body!.transformToString(), 'base');
    } finally {
      await custom.stop();
    }
  });
});

describe('POST Object with auth off', () => {
  it('stores an unsigned browser form upload', async () => {
    const bucket = await newBucket('form');
    const form = new FormData();
    form.append('key', 'forms/${filename}');
    form.append('Content-Type', 'text/csv');
    form.append('file', new Blob(['a,b\n1,2\n']), 'table.csv');
    const response = await fetch(`${server.endpoint}/${bucket}`, { method: 'POST', body: form });
    assert.equal(response.status, 204);
    assert.match(response.headers.get('etag')!, /^"[0-9a-f]{32}"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'forms/table.csv' }));
    assert.equal(head.ContentType, 'text/csv');
    assert.equal(await text(bucket, 'forms/table.csv'), 'a,b\n1,2\n');
    const noFile = new FormData();
    noFile.append('key', 'nofile');
    const missing = await fetch(`${server.endpoint}/${bucket}`, { method: 'POST', body: noFile });
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /<Code>InvalidArgument<\/Code>/);
  });
});

describe('errors', () => {
  it('answers unsupported operations with NotImplemented and wrong methods with MethodNotAllowed', async () => {
    const bucket = await newBucket('errs');
    const website = await raw('GET', `/${bucket}?website`);
    assert.equal(website.status, 501);
    assert.match(website.body, /<Code>NotImplemented<\/Code><Message>BucketWebsite \(GET\) is not implemented/);
    const patch = await raw('PATCH', `/${bucket}/k`);
    assert.equal(patch.status, 405);
    assert.match(patch.body, /<Code>MethodNotAllowed<\/Code>/);
    const iam = await raw('POST', '/', { 'content-type': 'application/x-www-form-urlencoded' }, 'Action=ListRoles&Version=2010-05-08');
    assert.equal(iam.status, 405);
    const badUri = await raw('GET', `/${bucket}/%FF%FE`);
    assert.equal(badUri.status, 400);
    assert.match(badUri.body, /<Code>InvalidURI<\/Code>/);
    // Node's http client would add chunked encoding; speak HTTP by hand for a PUT without length.
    const noLength = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(new URL(server.endpoint).port), '127.0.0.1', () => {
        socket.end(`PUT /${bucket}/no-length HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      });
      let answer = '';
      socket.on('data', (d) => (answer += d));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
    assert.match(noLength, /^HTTP\/1.1 411 /);
    assert.match(noLength, /<Code>MissingContentLength<\/Code>/);
    const badXml = await raw('PUT', `/${bucket}?tagging`, {}, '<Tagging><TagSet>');
    assert.match(badXml.body, /<Code>MalformedXML<\/Code>/);
  });

  it('cuts off a client that stops sending mid-body with RequestTimeout, keeping the old object', async () => {
    const slow = await startTestServer('timeout', { limits: { requestTimeoutMs: 500 } });
    try {
      await slow.client.send(new CreateBucketCommand({ Bucket: 'slow' }));
      await slow.client.send(new PutObjectCommand({ Bucket: 'slow', Key: 'k', Body: 'previous' }));
      const port = Number(new URL(slow.endpoint).port);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write('PUT /slow/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n12345');
        });
        let received = '';
        const timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
        socket.on('data', (d) => (received += d));
        socket.on('close', () => {
          clearTimeout(timer);
          resolve(received);
        });
        socket.on('error', reject);
        // The server answers and closes; stop waiting once the error body arrived.
        socket.on('data', () => {
          if (received.includes('</Error>')) socket.destroy();
        });
      });
      assert.match(answer, /^HTTP\/1.1 400 /);
      assert.match(answer, /<Code>RequestTimeout<\/Code>/);
      const get = await slow.client.send(new GetObjectCommand({ Bucket: 'slow', Key: 'k' }));
      assert.equal(await get.Body!.transformToString(), 'previous');
    } finally {
      await slow.stop();
    }
  });

  it('enforces limits.maxObjectSize with EntityTooLarge', async () => {
    const small = await startTestServer('limits', { limits: { maxObjectSize: 1024 } });
    try {
      await small.client.send(new CreateBucketCommand({ Bucket: 'limited' }));
      await small.client.send(new PutObjectCommand({ Bucket: 'limited', Key: 'ok', Body: Buffer.alloc(1024) }));
      const error = await s3Error(small.client.send(new PutObjectCommand({ Bucket: 'limited', Key: 'big', Body: Buffer.alloc(1025) })));
      assert.equal(error.name, 'EntityTooLarge');
      assert.equal(error.$metadata.httpStatusCode, 400);
      const listed = await small.client.send(new ListObjectsV2Command({ Bucket: 'limited' }));
      assert.deepEqual(listed.Contents!.map((c) => c.Key), ['ok']);
    } finally {
      await small.stop();
    }
  });
});
