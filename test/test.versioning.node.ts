// Bucket versioning through the AWS SDK v3, as Amazon S3 documents it: version ids, delete
// markers, reads and permanent deletes by version, ListObjectVersions, suspended buckets, restores
// by copy, versioned multipart, and survival across a restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { s3Error, startTestServer, tempDir, uniqueBucket, type ITestServer } from './helpers.js';

const md5 = (data: string) => crypto.createHash('md5').update(data).digest('hex');

let server: ITestServer;
let s3: S3Client;

before(async () => {
  server = await startTestServer('versioning', { multipart: { minPartSize: 1 } });
  s3 = server.client;
});

after(async () => {
  await server.stop();
});

async function versionedBucket(prefix = 'ver'): Promise<string> {
  const bucket = uniqueBucket(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return bucket;
}

async function text(bucket: string, key: string, versionId?: string): Promise<{ body: string; versionId?: string }> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return { body: await got.Body!.transformToString(), versionId: got.VersionId };
}

async function put(bucket: string, key: string, body: string): Promise<string> {
  const answer = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  assert.ok(answer.VersionId, 'a versioned PUT answers its version id');
  return answer.VersionId;
}

async function allVersions(bucket: string, maxKeys?: number) {
  const versions: { key: string; id: string; latest: boolean; marker: boolean }[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (let page = 0; page < 100; page++) {
    const answer = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: maxKeys, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
    );
    // The SDK groups versions and markers; S3's order is by key, then newest first.
    const entries = [
      ...(answer.Versions ?? []).map((v) => ({ key: v.Key!, id: v.VersionId!, latest: v.IsLatest!, marker: false, at: v.LastModified! })),
      ...(answer.DeleteMarkers ?? []).map((m) => ({ key: m.Key!, id: m.VersionId!, latest: m.IsLatest!, marker: true, at: m.LastModified! })),
    ];
    entries.sort((a, b) => (a.key === b.key ? Number(b.latest) - Number(a.latest) || b.at.getTime() - a.at.getTime() : a.key < b.key ? -1 : 1));
    versions.push(...entries.map(({ key, id, latest, marker }) => ({ key, id, latest, marker })));
    if (!answer.IsTruncated) return versions;
    keyMarker = answer.NextKeyMarker;
    versionMarker = answer.NextVersionIdMarker;
  }
  throw new Error('ListObjectVersions never ended');
}

describe('bucket versioning', () => {
  it('reports and changes the status, never back to unversioned; refuses bad configurations', async () => {
    const bucket = uniqueBucket('status');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, undefined);
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Suspended');
    const bad = await s3Error(
      s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Off' as 'Enabled' } })),
    );
    assert.equal(bad.name, 'IllegalVersioningConfigurationException');
    assert.equal(bad.$metadata.httpStatusCode, 400);
    const mfa = await s3Error(
      s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' } })),
    );
    assert.equal(mfa.$metadata.httpStatusCode, 501);
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Suspended');
    const missing = await s3Error(s3.send(new GetBucketVersioningCommand({ Bucket: uniqueBucket('none') })));
    assert.equal(missing.name, 'NoSuchBucket');
  });

  it('keeps every version, reads each by id, and lists them newest first', async () => {
    const bucket = await versionedBucket();
    const v1 = await put(bucket, 'doc', 'one');
    const v2 = await put(bucket, 'doc', 'two');
    assert.notEqual(v1, v2);
    assert.deepEqual(await text(bucket, 'doc'), { body: 'two', versionId: v2 });
    assert.deepEqual(await text(bucket, 'doc', v1), { body: 'one', versionId: v1 });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: v1 }));
    assert.equal(head.ETag, `"${md5('one')}"`);
    assert.equal(head.VersionId, v1);
    assert.deepEqual(await allVersions(bucket), [
      { key: 'doc', id: v2, latest: true, marker: false },
      { key: 'doc', id: v1, latest: false, marker: false },
    ]);
    const unknown = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: 'f'.repeat(32) })));
    assert.equal(unknown.name, 'NoSuchVersion');
    assert.equal(unknown.$metadata.httpStatusCode, 404);
    // Tags belong to one version.
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'doc', VersionId: v1, Tagging: { TagSet: [{ Key: 'old', Value: 'yes' }] } }));
    const oldTags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'doc', VersionId: v1 }));
    assert.deepEqual(oldTags.TagSet, [{ Key: 'old', Value: 'yes' }]);
    assert.equal(oldTags.VersionId, v1);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'doc' }))).TagSet, []);
    assert.equal((await text(bucket, 'doc', v1)).body, 'one', 'tagging leaves the data alone');
    // ListObjectsV2 shows the key once, at its latest version.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(listed.Contents!.map((c) => [c.Key, c.ETag]), [['doc', `"${md5('two')}"`]]);
  });

  it('hides a key behind a delete marker, and brings it back when the marker is removed', async () => {
    const bucket = await versionedBucket();
    const v1 = await put(bucket, 'k', 'kept');
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.equal(deleted.DeleteMarker, true);
    const marker = deleted.VersionId!;
    assert.ok(marker && marker !== v1);

    const gone = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
    assert.equal(gone.name, 'NoSuchKey');
    assert.equal(gone.$response?.headers['x-amz-delete-marker'], 'true');
    assert.equal(gone.$response?.headers['x-amz-version-id'], marker);
    const headGone = await s3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })));
    assert.equal(headGone.$metadata.httpStatusCode, 404);
    const byId = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: marker })));
    assert.equal(byId.$metadata.httpStatusCode, 405);
    assert.equal(byId.name, 'MethodNotAllowed');
    assert.equal((await text(bucket, 'k', v1)).body, 'kept', 'the old version is still readable by id');
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount, 0);
    assert.deepEqual(await allVersions(bucket), [
      { key: 'k', id: marker, latest: true, marker: true },
      { key: 'k', id: v1, latest: false, marker: false },
    ]);
    const notEmpty = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: bucket })));
    assert.equal(notEmpty.name, 'BucketNotEmpty', 'versions keep a bucket from being deleted');

    const removed = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: marker }));
    assert.equal(removed.DeleteMarker, true);
    assert.equal(removed.VersionId, marker);
    assert.deepEqual(await text(bucket, 'k'), { body: 'kept', versionId: v1 });
    assert.deepEqual(await allVersions(bucket), [{ key: 'k', id: v1, latest: true, marker: false }]);
  });

  it('removes versions for good; the next newest becomes the latest; the bucket then deletes', async () => {
    const bucket = await versionedBucket();
    const v1 = await put(bucket, 'k', 'first');
    const v2 = await put(bucket, 'k', 'second');
    const v3 = await put(bucket, 'k', 'third');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v2 }));
    assert.deepEqual((await allVersions(bucket)).map((v) => v.id), [v3, v1]);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v3 }));
    assert.deepEqual(await text(bucket, 'k'), { body: 'first', versionId: v1 });
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1 }));
    const gone = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
    assert.equal(gone.name, 'NoSuchKey');
    assert.equal(gone.$response?.headers['x-amz-delete-marker'], undefined);
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  });

  it('restores an old version by copying it onto its key', async () => {
    const bucket = await versionedBucket();
    const v1 = await put(bucket, 'page', 'good');
    await put(bucket, 'page', 'broken');
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'page', CopySource: `${bucket}/page?versionId=${v1}` }),
    );
    assert.equal(copied.CopySourceVersionId, v1);
    assert.ok(copied.VersionId && copied.VersionId !== v1);
    assert.deepEqual(await text(bucket, 'page'), { body: 'good', versionId: copied.VersionId });
    assert.equal((await allVersions(bucket)).length, 3);
  });

  it('gives a completed multipart upload a version of its own', async () => {
    const bucket = await versionedBucket();
    const before = await put(bucket, 'big', 'small first');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big' }));
    const part1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId, PartNumber: 1, Body: 'part one, ' }));
    const part2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId, PartNumber: 2, Body: 'part two' }));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'big',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part1.ETag }, { PartNumber: 2, ETag: part2.ETag }] },
      }),
    );
    assert.ok(done.VersionId && done.VersionId !== before);
    assert.deepEqual(await text(bucket, 'big'), { body: 'part one, part two', versionId: done.VersionId });
    assert.equal((await text(bucket, 'big', before)).body, 'small first');
  });

  it('deletes versions and makes markers in DeleteObjects', async () => {
    const bucket = await versionedBucket();
    const a1 = await put(bucket, 'a', 'a1');
    await put(bucket, 'b', 'b1');
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'a', VersionId: a1 }, { Key: 'b' }] } }),
    );
    const byKey = Object.fromEntries(result.Deleted!.map((d) => [d.Key, d]));
    assert.equal(byKey.a.VersionId, a1);
    assert.equal(byKey.a.DeleteMarker, undefined);
    assert.equal(byKey.b.DeleteMarker, true);
    assert.ok(byKey.b.DeleteMarkerVersionId);
    const versions = await allVersions(bucket);
    assert.deepEqual(
      versions.map((v) => [v.key, v.marker, v.latest]),
      [
        ['b', true, true],
        ['b', false, false],
      ],
    );
  });

  it('replaces the null version while suspended and keeps the versions made before', async () => {
    const bucket = await versionedBucket();
    const v1 = await put(bucket, 'k', 'versioned');
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'null one' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'null two' }));
    assert.deepEqual(await allVersions(bucket), [
      { key: 'k', id: 'null', latest: true, marker: false },
      { key: 'k', id: v1, latest: false, marker: false },
    ]);
    assert.equal((await text(bucket, 'k')).body, 'null two');
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.equal(deleted.DeleteMarker, true);
    assert.equal(deleted.VersionId, 'null');
    assert.deepEqual(await allVersions(bucket), [
      { key: 'k', id: 'null', latest: true, marker: true },
      { key: 'k', id: v1, latest: false, marker: false },
    ]);
    // Versioning on again: new ids, the old ones stay.
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const v3 = await put(bucket, 'k', 'again');
    assert.deepEqual((await allVersions(bucket)).map((v) => v.id), [v3, 'null', v1]);
  });

  it('pages through versions of many keys with key and version-id markers', async () => {
    const bucket = await versionedBucket();
    const expected: string[] = [];
    for (const key of ['a', 'b/x', 'b/y', 'c']) {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.unshift(await put(bucket, key, `${key}${i}`));
      expected.push(...ids.map((id) => `${key}@${id}`));
    }
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'c' }));
    const whole = (await allVersions(bucket)).map((v) => `${v.key}@${v.id}`);
    assert.equal(whole.length, expected.length + 1);
    assert.deepEqual(whole.filter((v) => !v.startsWith('c@') || expected.includes(v)), expected);
    for (const size of [1, 2, 5]) {
      assert.deepEqual((await allVersions(bucket, size)).map((v) => `${v.key}@${v.id}`), whole, `pages of ${size}`);
    }
    const grouped = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Delimiter: '/' }));
    assert.deepEqual(grouped.CommonPrefixes!.map((p) => p.Prefix), ['b/']);
    const prefixed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'b/' }));
    assert.equal(prefixed.Versions!.length, 6);
  });
});

describe('conditional deletes', () => {
  for (const versioned of [false, true]) {
    it(`deletes only when If-Match, the time and the size hold (${versioned ? 'versioned' : 'unversioned'} bucket)`, async () => {
      const bucket = versioned ? await versionedBucket('cond') : uniqueBucket('cond');
      if (!versioned) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'guarded' }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));

      const wrongEtag = await s3Error(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: `"${md5('other')}"` })));
      assert.equal(wrongEtag.name, 'PreconditionFailed');
      assert.equal(wrongEtag.$metadata.httpStatusCode, 412);
      const wrongSize = await s3Error(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatchSize: 1 })));
      assert.equal(wrongSize.$metadata.httpStatusCode, 412);
      const wrongTime = await s3Error(
        s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatchLastModifiedTime: new Date(head.LastModified!.getTime() - 60_000) })),
      );
      assert.equal(wrongTime.$metadata.httpStatusCode, 412);
      assert.equal((await text(bucket, 'k')).body, 'guarded', 'nothing was deleted');

      // Per key in DeleteObjects: the failing one is an error, the rest go.
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'other', Body: 'x' }));
      const batch = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: [{ Key: 'k', ETag: '"0000"' }, { Key: 'other', ETag: `"${md5('x')}"`, Size: 1 }] },
        }),
      );
      assert.deepEqual(batch.Errors!.map((e) => [e.Key, e.Code]), [['k', 'PreconditionFailed']]);
      assert.deepEqual(batch.Deleted!.map((d) => d.Key), ['other']);

      await s3.send(
        new DeleteObjectCommand({
          Bucket: bucket,
          Key: 'k',
          IfMatch: head.ETag,
          IfMatchSize: 'guarded'.length,
          IfMatchLastModifiedTime: head.LastModified,
        }),
      );
      assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })))).name, 'NoSuchKey');
      // If-Match needs a current version; the other conditions do not.
      const absent = await s3Error(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', IfMatch: '*' })));
      assert.equal(absent.name, 'NoSuchKey');
      const sized = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never', IfMatchSize: 5 }));
      assert.equal(sized.$metadata.httpStatusCode, 204);
    });
  }
});

describe('versions across a restart', () => {
  it('keeps versions and markers when the server starts again on the same directory', async () => {
    const directory = tempDir('versions-restart');
    const first = await startTestServer('versions-restart', { storage: { directory, cleanSlate: false } });
    const bucket = uniqueBucket('restart');
    await first.client.send(new CreateBucketCommand({ Bucket: bucket }));
    await first.client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await first.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v1' }))).VersionId!;
    const marker = (await first.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }))).VersionId!;
    await first.smarts3.stop();
    first.client.destroy();

    const second = await startTestServer('versions-restart', { storage: { directory, cleanSlate: false } });
    try {
      const listed = await second.client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      assert.deepEqual(listed.Versions!.map((v) => [v.VersionId, v.IsLatest]), [[v1, false]]);
      assert.deepEqual(listed.DeleteMarkers!.map((m) => [m.VersionId, m.IsLatest]), [[marker, true]]);
      const got = await second.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1 }));
      assert.equal(await got.Body!.transformToString(), 'v1');
      assert.equal((await second.client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
    } finally {
      await second.stop();
    }
  });
});
