// Multipart uploads through the AWS SDK v3, @aws-sdk/lib-storage and SmartBucket.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import * as smartbucket from '@push.rocks/smartbucket';
import { Smarts3 } from '../ts/index.js';
import { s3Error, startTestServer, tempDir, uniqueBucket, whenDirectory, type ITestServer } from './helpers.js';

const MiB = 1024 * 1024;
const md5 = (data: Buffer | string) => crypto.createHash('md5').update(data).digest('hex');
const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

async function bodyOf(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const get = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await get.Body!.transformToByteArray());
}

/** The expected multipart ETag, computed the way S3 defines it. */
function multipartEtag(parts: Buffer[]): string {
  const digests = Buffer.concat(parts.map((p) => crypto.createHash('md5').update(p).digest()));
  return `"${md5(digests)}-${parts.length}"`;
}

describe('multipart with S3\'s 5 MiB minimum part size', () => {
  let server: ITestServer;
  let s3: S3Client;
  let bucket: string;

  before(async () => {
    server = await startTestServer('multipart');
    s3 = server.client;
    bucket = uniqueBucket('mp');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => server?.stop());

  async function upload(key: string, parts: Buffer[], extra: Record<string, unknown> = {}) {
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...extra }));
    const done: CompletedPart[] = [];
    for (const [i, part] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: i + 1, Body: part }),
      );
      done.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    return { uploadId: created.UploadId!, done };
  }

  it('assembles parts into one object with S3\'s multipart ETag and the metadata given at create', async () => {
    const parts = [Buffer.alloc(5 * MiB, 1), Buffer.from('tail')];
    const { uploadId, done } = await upload('assembled.bin', parts, {
      ContentType: 'application/x-assembled',
      Metadata: { origin: 'multipart' },
    });
    assert.deepEqual(
      done.map((p) => p.ETag),
      ['"08b46181d7094b5ece88bb389c7499af"', '"7aea2552dfe7eb84b9443b6fc9ba6e01"'],
    );
    const complete = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'assembled.bin', UploadId: uploadId, MultipartUpload: { Parts: done } }),
    );
    assert.equal(complete.ETag, '"1b5586dcc4c977ad9eb82c917af59a83-2"');
    assert.equal(complete.Bucket, bucket);
    assert.equal(complete.Key, 'assembled.bin');
    assert.match(complete.Location!, new RegExp(`/${bucket}/assembled.bin$`));

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'assembled.bin' }));
    assert.equal(head.ContentLength, 5 * MiB + 4);
    assert.equal(head.ETag, '"1b5586dcc4c977ad9eb82c917af59a83-2"');
    assert.equal(head.ContentType, 'application/x-assembled');
    assert.deepEqual(head.Metadata, { origin: 'multipart' });
    assert.equal(sha256(await bodyOf(s3, bucket, 'assembled.bin')), sha256(Buffer.concat(parts)));
    // The upload and its parts are gone from disk.
    assert.deepEqual(fs.readdirSync(path.join(server.directory, '.multipart')), []);
    const again = await s3Error(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'assembled.bin', UploadId: uploadId })));
    assert.equal(again.name, 'NoSuchUpload');
  });

  it('validates the part list: InvalidPart, InvalidPartOrder, EntityTooSmall, MalformedXML', async () => {
    const { uploadId, done } = await upload('validated', [Buffer.alloc(1024, 2), Buffer.alloc(1024, 3)]);
    const complete = (parts: CompletedPart[]) =>
      s3Error(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'validated', UploadId: uploadId, MultipartUpload: { Parts: parts } })));
    assert.equal((await complete([{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }])).name, 'InvalidPart');
    assert.equal((await complete([{ PartNumber: 3, ETag: done[0].ETag }])).name, 'InvalidPart');
    assert.equal((await complete([done[1], done[0]])).name, 'InvalidPartOrder');
    const small = await complete(done);
    assert.equal(small.name, 'EntityTooSmall');
    assert.equal(small.$metadata.httpStatusCode, 400);
    assert.equal((await complete([])).name, 'MalformedXML');
    // A single small part is fine: only non-last parts have a minimum.
    const single = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'validated', UploadId: uploadId, MultipartUpload: { Parts: [done[0]] } }),
    );
    assert.equal(single.ETag, multipartEtag([Buffer.alloc(1024, 2)]));
    assert.equal((await bodyOf(s3, bucket, 'validated')).length, 1024);
  });

  it('rejects bad part numbers and unknown uploads', async () => {
    const { uploadId } = await upload('numbers', []);
    for (const PartNumber of [0, 10001]) {
      const error = await s3Error(
        s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'numbers', UploadId: uploadId, PartNumber, Body: 'x' })),
      );
      assert.equal(error.name, 'InvalidArgument', String(PartNumber));
    }
    const unknown = await s3Error(
      s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'numbers', UploadId: 'f'.repeat(32), PartNumber: 1, Body: 'x' })),
    );
    assert.equal(unknown.name, 'NoSuchUpload');
    assert.equal(unknown.$metadata.httpStatusCode, 404);
    const otherKey = await s3Error(
      s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'another-key', UploadId: uploadId, PartNumber: 1, Body: 'x' })),
    );
    assert.equal(otherKey.name, 'NoSuchUpload');
    const garbage = await s3Error(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'numbers', UploadId: '../../etc' })));
    assert.equal(garbage.name, 'NoSuchUpload');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'numbers', UploadId: uploadId }));
  });

  it('replaces a re-uploaded part and lists parts with paging', async () => {
    const key = 'listed-parts';
    const { uploadId } = await upload(key, [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')]);
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 2, Body: 'TWO!' }));
    const all = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    assert.deepEqual(all.Parts!.map((p) => [p.PartNumber, p.Size, p.ETag]), [
      [1, 3, `"${md5('one')}"`],
      [2, 4, `"${md5('TWO!')}"`],
      [3, 5, `"${md5('three')}"`],
    ]);
    assert.equal(all.IsTruncated, false);
    assert.ok(all.Parts![0].LastModified instanceof Date);
    const first = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MaxParts: 2 }));
    assert.equal(first.IsTruncated, true);
    assert.deepEqual(first.Parts!.map((p) => p.PartNumber), [1, 2]);
    assert.equal(first.NextPartNumberMarker, '2');
    const second = await s3.send(
      new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MaxParts: 2, PartNumberMarker: first.NextPartNumberMarker }),
    );
    assert.deepEqual(second.Parts!.map((p) => p.PartNumber), [3]);
    assert.equal(second.IsTruncated, false);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  });

  it('aborts with 204 and removes the parts', async () => {
    const { uploadId } = await upload('aborted', [Buffer.from('part')]);
    assert.ok(fs.existsSync(path.join(server.directory, '.multipart', uploadId, 'part-1.json')));
    const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted', UploadId: uploadId }));
    assert.equal(aborted.$metadata.httpStatusCode, 204);
    assert.ok(!fs.existsSync(path.join(server.directory, '.multipart', uploadId)));
    const again = await s3Error(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted', UploadId: uploadId })));
    assert.equal(again.name, 'NoSuchUpload');
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'aborted' })))).name, 'NotFound');
  });

  it('lists uploads with prefix, delimiter and key/upload-id markers', async () => {
    const listBucket = uniqueBucket('mpl');
    await s3.send(new CreateBucketCommand({ Bucket: listBucket }));
    const keys = ['docs/a', 'docs/b', 'docs/b', 'img/x', 'top'];
    const ids: string[] = [];
    for (const Key of keys) {
      ids.push((await s3.send(new CreateMultipartUploadCommand({ Bucket: listBucket, Key }))).UploadId!);
    }
    const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: listBucket }));
    assert.deepEqual(all.Uploads!.map((u) => u.Key), keys);
    assert.deepEqual(all.Uploads!.map((u) => u.UploadId), ids);
    assert.ok(all.Uploads![0].Initiated instanceof Date);
    assert.equal(all.IsTruncated, false);

    const grouped = await s3.send(new ListMultipartUploadsCommand({ Bucket: listBucket, Delimiter: '/' }));
    assert.deepEqual(grouped.CommonPrefixes!.map((p) => p.Prefix), ['docs/', 'img/']);
    assert.deepEqual(grouped.Uploads!.map((u) => u.Key), ['top']);
    const prefixed = await s3.send(new ListMultipartUploadsCommand({ Bucket: listBucket, Prefix: 'docs/' }));
    assert.deepEqual(prefixed.Uploads!.map((u) => u.Key), ['docs/a', 'docs/b', 'docs/b']);

    const seen: string[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await s3.send(
        new ListMultipartUploadsCommand({ Bucket: listBucket, MaxUploads: 2, KeyMarker: keyMarker, UploadIdMarker: idMarker }),
      );
      seen.push(...page.Uploads!.map((u) => u.UploadId!));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
    assert.deepEqual(seen, ids);

    // Deleting the bucket takes its unfinished uploads with it.
    await s3.send(new DeleteBucketCommand({ Bucket: listBucket }));
    assert.equal((await s3Error(s3.send(new HeadBucketCommand({ Bucket: listBucket })))).name, 'NotFound');
    for (const id of ids) assert.ok(!fs.existsSync(path.join(server.directory, '.multipart', id)));
  });

  it('honours If-None-Match: * on complete', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'exists', Body: 'original' }));
    const { uploadId, done } = await upload('exists', [Buffer.from('new')]);
    const error = await s3Error(
      s3.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'exists', UploadId: uploadId, IfNoneMatch: '*', MultipartUpload: { Parts: done } }),
      ),
    );
    assert.equal(error.name, 'PreconditionFailed');
    assert.equal(error.$metadata.httpStatusCode, 412);
    assert.equal((await bodyOf(s3, bucket, 'exists')).toString(), 'original');
    const fresh = await upload('fresh', [Buffer.from('new')]);
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'fresh', UploadId: fresh.uploadId, IfNoneMatch: '*', MultipartUpload: { Parts: fresh.done } }),
    );
    assert.equal((await bodyOf(s3, bucket, 'fresh')).toString(), 'new');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'exists', UploadId: uploadId }));
  });

  it('answers a retried complete as the first one, and only for the same parts', async () => {
    const parts = [Buffer.alloc(5 * MiB, 1), Buffer.from('retried tail')];
    const { uploadId, done } = await upload('retried', parts);
    const complete = (list: CompletedPart[]) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'retried', UploadId: uploadId, MultipartUpload: { Parts: list } }));
    const first = await complete(done);
    assert.equal(first.ETag, multipartEtag(parts));
    const again = await complete(done);
    assert.equal(again.ETag, first.ETag);
    assert.equal(again.Key, 'retried');
    assert.equal((await s3Error(complete(done.slice(0, 1)))).name, 'NoSuchUpload');
    // The upload is gone for everything else.
    assert.equal((await s3Error(s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'retried', UploadId: uploadId })))).name, 'NoSuchUpload');
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'retried' }));
    assert.equal(listed.Uploads, undefined);
    assert.equal(sha256(await bodyOf(s3, bucket, 'retried')), sha256(Buffer.concat(parts)));
  });

  it('keeps the part upload that finished last when one part number is sent twice at once', async () => {
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'raced' }));
    const slow = Buffer.alloc(64 * 1024, 's');
    const fast = Buffer.alloc(64 * 1024, 'f');
    // The slow upload sends half its body, waits until the fast one is answered, then ends.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slowBody = Readable.from(
      (async function* () {
        yield slow.subarray(0, 1000);
        await released;
        yield slow.subarray(1000);
      })(),
    );
    const send = (body: Buffer | Readable) =>
      s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'raced', UploadId: created.UploadId, PartNumber: 1, Body: body, ContentLength: slow.length }));
    const slowPart = send(slowBody);
    const fastPart = await send(fast);
    release();
    const slowDone = await slowPart;
    assert.notEqual(slowDone.ETag, fastPart.ETag);
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'raced', UploadId: created.UploadId }));
    assert.deepEqual(listed.Parts!.map((p) => p.ETag), [slowDone.ETag]);
    const stale = await s3Error(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'raced', UploadId: created.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: fastPart.ETag }] } })),
    );
    assert.equal(stale.name, 'InvalidPart');
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'raced', UploadId: created.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: slowDone.ETag }] } }),
    );
    assert.deepEqual(await bodyOf(s3, bucket, 'raced'), slow);
  });

  it('copies parts from existing objects, whole or by range (UploadPartCopy)', async () => {
    const source = Buffer.alloc(6 * MiB);
    for (let i = 0; i < source.length; i++) source[i] = i % 251;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-source', Body: source }));
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'copied' }));
    const whole = await s3.send(
      new UploadPartCopyCommand({ Bucket: bucket, Key: 'copied', UploadId: created.UploadId, PartNumber: 1, CopySource: `${bucket}/copy-source` }),
    );
    assert.equal(whole.CopyPartResult!.ETag, `"${md5(source)}"`);
    assert.ok(whole.CopyPartResult!.LastModified instanceof Date);
    const ranged = await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: 'copied',
        UploadId: created.UploadId,
        PartNumber: 2,
        CopySource: encodeURIComponent(`${bucket}/copy-source`),
        CopySourceRange: 'bytes=100-199',
      }),
    );
    assert.equal(ranged.CopyPartResult!.ETag, `"${md5(source.subarray(100, 200))}"`);
    const outOfRange = await s3Error(
      s3.send(
        new UploadPartCopyCommand({
          Bucket: bucket, Key: 'copied', UploadId: created.UploadId, PartNumber: 3, CopySource: `${bucket}/copy-source`, CopySourceRange: `bytes=0-${6 * MiB}`,
        }),
      ),
    );
    assert.equal(outOfRange.name, 'InvalidRange');
    const missing = await s3Error(
      s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copied', UploadId: created.UploadId, PartNumber: 3, CopySource: `${bucket}/nope` })),
    );
    assert.equal(missing.name, 'NoSuchKey');
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'copied',
        UploadId: created.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: whole.CopyPartResult!.ETag }, { PartNumber: 2, ETag: ranged.CopyPartResult!.ETag }] },
      }),
    );
    const expected = Buffer.concat([source, source.subarray(100, 200)]);
    assert.equal(sha256(await bodyOf(s3, bucket, 'copied')), sha256(expected));
  });

  it('keeps per-part checksums and returns the composite checksum', async () => {
    const parts = [Buffer.alloc(5 * MiB, 7), Buffer.from('checksummed tail')];
    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'checksummed', ChecksumAlgorithm: 'CRC32' }),
    );
    assert.equal(created.ChecksumAlgorithm, 'CRC32');
    const done: CompletedPart[] = [];
    for (const [i, part] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'checksummed', UploadId: created.UploadId, PartNumber: i + 1, Body: part, ChecksumAlgorithm: 'CRC32' }),
      );
      assert.ok(r.ChecksumCRC32);
      done.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'checksummed', UploadId: created.UploadId }));
    assert.deepEqual(listed.Parts!.map((p) => p.ChecksumCRC32), done.map((p) => p.ChecksumCRC32));

    const wrong = await s3Error(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket, Key: 'checksummed', UploadId: created.UploadId,
          MultipartUpload: { Parts: [{ ...done[0], ChecksumCRC32: 'AAAAAA==' }, done[1]] },
        }),
      ),
    );
    assert.equal(wrong.name, 'InvalidPart');

    const complete = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'checksummed', UploadId: created.UploadId, MultipartUpload: { Parts: done } }),
    );
    // S3's composite form: CRC32 over the concatenated binary part CRCs, then -<parts>.
    const partCrcs = Buffer.concat(done.map((p) => Buffer.from(p.ChecksumCRC32!, 'base64')));
    const composite = `${Buffer.from(crc32(partCrcs).toString(16).padStart(8, '0'), 'hex').toString('base64')}-2`;
    assert.equal(complete.ChecksumCRC32, composite);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'checksummed', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC32, composite);
    assert.equal(head.ChecksumType, 'COMPOSITE');
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'checksummed', ChecksumMode: 'ENABLED' }));
    assert.equal(sha256(Buffer.from(await get.Body!.transformToByteArray())), sha256(Buffer.concat(parts)));
  });

  it('uploads through lib-storage with parallel parts', async () => {
    const data = crypto.randomBytes(23 * MiB);
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'lib-storage.bin', Body: Readable.from([data]), ContentType: 'application/x-lib' },
      partSize: 5 * MiB,
      queueSize: 4,
    });
    const result = await upload.done();
    const parts = Array.from({ length: 5 }, (_, i) => data.subarray(i * 5 * MiB, (i + 1) * 5 * MiB));
    assert.equal(result.ETag, multipartEtag(parts));
    assert.equal(sha256(await bodyOf(s3, bucket, 'lib-storage.bin')), sha256(data));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'lib-storage.bin' }));
    assert.equal(head.ContentType, 'application/x-lib');
  });

  it('stores a large file through SmartBucket', async () => {
    const client = new smartbucket.SmartBucket(await server.smarts3.getS3Descriptor());
    const sb = await client.getBucketByName(bucket);
    const data = crypto.randomBytes(12 * MiB);
    await sb.fastPut({ path: 'smartbucket/large.bin', contents: data });
    assert.equal(sha256(await sb.fastGet({ path: 'smartbucket/large.bin' })), sha256(data));
  });
});

/** CRC-32 (IEEE), for checking composite checksums independently of the server. */
function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('multipart with small parts, restarts and expiry', () => {
  let server: ITestServer;
  let s3: S3Client;
  let bucket: string;

  before(async () => {
    server = await startTestServer('multipart-small', { multipart: { minPartSize: 1 } });
    s3 = server.client;
    bucket = uniqueBucket('mps');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => server?.stop());

  it('completes a 1000-part upload uploaded in parallel, out of order', async () => {
    const key = 'thousand-parts';
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const parts = Array.from({ length: 1000 }, (_, i) => Buffer.from(`part ${i + 1} `.repeat(20)));
    const etags: string[] = new Array(1000);
    const queue = parts.map((_, i) => i).reverse();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const r = await s3.send(
            new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: i + 1, Body: parts[i] }),
          );
          etags[i] = r.ETag!;
        }
      }),
    );
    const complete = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: created.UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    assert.equal(complete.ETag, multipartEtag(parts));
    assert.equal(sha256(await bodyOf(s3, bucket, key)), sha256(Buffer.concat(parts)));
  });

  it('runs many uploads with many parts at once', async () => {
    const uploads = Array.from({ length: 6 }, (_, u) => ({
      key: `parallel/${u}`,
      parts: Array.from({ length: 6 }, (_, p) => crypto.randomBytes(64 * 1024 + u * 1000 + p)),
    }));
    await Promise.all(
      uploads.map(async ({ key, parts }) => {
        const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
        const done = await Promise.all(
          parts.map(async (Body, i) => {
            const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: i + 1, Body }));
            return { PartNumber: i + 1, ETag: r.ETag };
          }),
        );
        await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, MultipartUpload: { Parts: done } }));
      }),
    );
    for (const { key, parts } of uploads) {
      assert.equal(sha256(await bodyOf(s3, bucket, key)), sha256(Buffer.concat(parts)), key);
    }
  });

  it('aborts an upload mid-way while parts are still arriving', async () => {
    const key = 'abort-midway';
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: 1, Body: 'first' }));
    const inFlight = Array.from({ length: 8 }, (_, i) =>
      s3
        .send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: i + 2, Body: crypto.randomBytes(256 * 1024) }))
        .then(() => 'stored', (e: S3ServiceException) => e.name),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId }));
    const outcomes = await Promise.all(inFlight);
    for (const outcome of outcomes) assert.ok(['stored', 'NoSuchUpload'].includes(outcome), outcome);
    assert.ok(!fs.existsSync(path.join(server.directory, '.multipart', created.UploadId!)));
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    assert.equal(listed.Uploads, undefined);
  });

  it('keeps uploads in flight across a server restart', async () => {
    const directory = tempDir('mp-restart');
    const options = { server: { port: 0, silent: true }, storage: { directory }, multipart: { minPartSize: 1 } };
    let instance = await Smarts3.createAndStart(options);
    try {
      const client = async () => {
        const d = await instance.getS3Descriptor();
        return new S3Client({
          endpoint: `http://${d.endpoint}:${d.port}`,
          region: 'us-east-1',
          credentials: { accessKeyId: d.accessKey, secretAccessKey: d.accessSecret },
          forcePathStyle: true,
        });
      };
      let c = await client();
      await c.send(new CreateBucketCommand({ Bucket: 'restart' }));
      const created = await c.send(new CreateMultipartUploadCommand({ Bucket: 'restart', Key: 'k' }));
      const p1 = await c.send(new UploadPartCommand({ Bucket: 'restart', Key: 'k', UploadId: created.UploadId, PartNumber: 1, Body: 'before ' }));
      c.destroy();
      await instance.stop();

      instance = await Smarts3.createAndStart(options);
      c = await client();
      const p2 = await c.send(new UploadPartCommand({ Bucket: 'restart', Key: 'k', UploadId: created.UploadId, PartNumber: 2, Body: 'after' }));
      await c.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'restart', Key: 'k', UploadId: created.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
        }),
      );
      assert.equal((await bodyOf(c, 'restart', 'k')).toString(), 'before after');
      c.destroy();
    } finally {
      await instance.stop();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('sweeps uploads older than expirationDays', async () => {
    const expiring = await startTestServer('mp-expiry', {
      // ~0.4 s old uploads expire; the sweep runs every ~0.3 s.
      multipart: { expirationDays: 0.4 / 86_400, cleanupIntervalMinutes: 0.3 / 60 },
    });
    try {
      await expiring.client.send(new CreateBucketCommand({ Bucket: 'expiry' }));
      const created = await expiring.client.send(new CreateMultipartUploadCommand({ Bucket: 'expiry', Key: 'old' }));
      const dir = path.join(expiring.directory, '.multipart', created.UploadId!);
      assert.ok(fs.existsSync(dir));
      await whenDirectory(path.dirname(dir), (uploads) => !uploads.includes(created.UploadId!), 10_000, 'the expiry sweep');
      assert.ok(!fs.existsSync(dir), 'the expired upload was swept');
      const error = await s3Error(
        expiring.client.send(new UploadPartCommand({ Bucket: 'expiry', Key: 'old', UploadId: created.UploadId, PartNumber: 1, Body: 'x' })),
      );
      assert.equal(error.name, 'NoSuchUpload');
    } finally {
      await expiring.stop();
    }
  });
});
