// Lifecycle rules through the AWS SDK v3: S3's validation, and rules that really run. A
// lifecycle "day" is 0.2 s here (lifecycle.dayLengthSeconds), and runLifecycle() applies the rules
// at once; the background worker applies them on its own as well.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  S3Client,
  UploadPartCommand,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { s3Error, startTestServer, uniqueBucket, type ITestServer } from './helpers.js';

const DAY_MS = 200;
let server: ITestServer;
let s3: S3Client;

before(async () => {
  server = await startTestServer('lifecycle', { lifecycle: { dayLengthSeconds: DAY_MS / 1000 } });
  s3 = server.client;
});

after(async () => {
  await server.stop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function bucketWith(rules: LifecycleRule[], versioned = false): Promise<string> {
  const bucket = uniqueBucket('life');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
  return bucket;
}

async function keys(bucket: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((c) => c.Key!);
}

describe('lifecycle configuration', () => {
  it('round-trips rules and answers S3 errors for invalid ones', async () => {
    const bucket = uniqueBucket('life-config');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const none = await s3Error(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })));
    assert.equal(none.name, 'NoSuchLifecycleConfiguration');
    assert.equal(none.$metadata.httpStatusCode, 404);

    const rules: LifecycleRule[] = [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
      {
        ID: 'tagged-big',
        Status: 'Disabled',
        Filter: { And: { Prefix: 'data/', Tags: [{ Key: 'tier', Value: 'cold' }], ObjectSizeGreaterThan: 1024 } },
        Transitions: [{ Days: 10, StorageClass: 'GLACIER' }],
        NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 2 },
      },
      { ID: 'uploads', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } },
    ];
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
    const got = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules!;
    assert.deepEqual(got.map((r) => [r.ID, r.Status]), [['logs', 'Enabled'], ['tagged-big', 'Disabled'], ['uploads', 'Enabled']]);
    assert.deepEqual(got[0].Filter, { Prefix: 'logs/' });
    assert.equal(got[0].Expiration?.Days, 30);
    assert.deepEqual(got[1].Filter?.And?.Tags, [{ Key: 'tier', Value: 'cold' }]);
    assert.equal(got[1].Filter?.And?.ObjectSizeGreaterThan, 1024);
    assert.deepEqual(got[1].Transitions, [{ Days: 10, StorageClass: 'GLACIER' }]);
    assert.deepEqual(got[1].NoncurrentVersionExpiration, { NoncurrentDays: 7, NewerNoncurrentVersions: 2 });
    assert.equal(got[2].AbortIncompleteMultipartUpload?.DaysAfterInitiation, 3);

    const put = (Rules: LifecycleRule[]) =>
      s3Error(s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules } })));
    assert.equal((await put([{ ID: 'x', Status: 'Enabled', Filter: {} }])).name, 'InvalidRequest', 'a rule needs an action');
    assert.equal((await put([{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }])).name, 'InvalidArgument');
    const twice = await put([
      { ID: 'same', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } },
      { ID: 'same', Status: 'Enabled', Filter: {}, Expiration: { Days: 2 } },
    ]);
    assert.equal(twice.name, 'InvalidArgument');
    const notMidnight = await put([{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date('2030-01-01T12:00:00Z') } }]);
    assert.equal(notMidnight.name, 'InvalidArgument');
    const tagAbort = await put([
      { ID: 'x', Status: 'Enabled', Filter: { Tag: { Key: 'a', Value: 'b' } }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
    assert.equal(tagAbort.name, 'InvalidRequest');
    const earlyIa = await put([{ ID: 'x', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 10, StorageClass: 'STANDARD_IA' }] }]);
    assert.equal(earlyIa.name, 'InvalidArgument');
    assert.match(earlyIa.message, /greater than or equal to 30 for storageClass 'STANDARD_IA'/);
    const unknownClass = await put([{ ID: 'x', Status: 'Enabled', Filter: {}, Transitions: [{ Days: 10, StorageClass: 'CHEAPEST' as any }] }]);
    assert.equal(unknownClass.name, 'MalformedXML');

    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
    assert.equal((await s3Error(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })))).name, 'NoSuchLifecycleConfiguration');
  });
});

describe('lifecycle rules at work', () => {
  it('expires current objects that match, after their days', async () => {
    const bucket = await bucketWith([
      { ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 5 } },
      { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'keep/' }, Expiration: { Days: 1 } },
    ]);
    for (const Key of ['tmp/a', 'tmp/b', 'keep/c', 'other']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }));
    // Not yet five days (1 s) old.
    await server.smarts3.runLifecycle();
    assert.deepEqual(await keys(bucket), ['keep/c', 'other', 'tmp/a', 'tmp/b']);
    await pause(DAY_MS * 5 + 50);
    await server.smarts3.runLifecycle();
    assert.deepEqual(await keys(bucket), ['keep/c', 'other']);
  });

  it('removes noncurrent versions beyond the newest ones kept, and lone delete markers', async () => {
    const bucket = await bucketWith(
      [
        { ID: 'old', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } },
        { ID: 'markers', Status: 'Enabled', Filter: { Prefix: 'gone' }, Expiration: { ExpiredObjectDeleteMarker: true } },
      ],
      true,
    );
    const ids: string[] = [];
    for (const body of ['v1', 'v2', 'v3']) ids.push((await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: body }))).VersionId!);
    const gone = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: 'x' }))).VersionId!;
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone', VersionId: gone }));
    await pause(DAY_MS + 50);
    const report = await server.smarts3.runLifecycle();
    assert.equal(typeof report.versionsRemoved, 'number');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    assert.deepEqual(versions.Versions!.map((v) => v.VersionId), [ids[2], ids[1]], 'the newest noncurrent version is kept');
    assert.equal(versions.DeleteMarkers, undefined, 'the lone marker is gone');
    const current = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc' }));
    assert.equal(await current.Body!.transformToString(), 'v3');
  });

  it('moves versions to the storage class of their transitions, current and noncurrent', async () => {
    // The background worker runs too, so the checks look at classes, not at who moved them.
    const bucket = await bucketWith(
      [
        { ID: 'archive', Status: 'Enabled', Filter: { Prefix: 'docs/' }, Transitions: [{ Days: 2, StorageClass: 'GLACIER_IR' }, { Days: 4, StorageClass: 'DEEP_ARCHIVE' }] },
        { ID: 'old', Status: 'Enabled', Filter: { Prefix: 'docs/' }, NoncurrentVersionTransitions: [{ NoncurrentDays: 1, StorageClass: 'GLACIER' }] },
      ],
      true,
    );
    const first = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'docs/a', Body: 'one' }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'other', Body: 'x' }));
    const classes = async () =>
      Object.fromEntries(
        ((await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions ?? []).map((v) => [`${v.Key}@${v.VersionId === first ? 'first' : 'latest'}`, v.StorageClass]),
      );
    assert.equal((await server.smarts3.runLifecycle()).transitioned, 0, 'nothing is old enough yet');

    await pause(DAY_MS * 1.25); // day 1.25: the first version becomes noncurrent, having been current too briefly
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'docs/a', Body: 'two' }));
    await server.smarts3.runLifecycle();
    assert.deepEqual(await classes(), { 'docs/a@latest': 'STANDARD', 'docs/a@first': 'STANDARD', 'other@latest': 'STANDARD' });

    await pause(DAY_MS * 1.25); // day 2.5: noncurrent for 1.25 days
    await server.smarts3.runLifecycle();
    assert.deepEqual(await classes(), { 'docs/a@latest': 'STANDARD', 'docs/a@first': 'GLACIER', 'other@latest': 'STANDARD' });

    await pause(DAY_MS); // day 3.5: the current version is 2.25 days old
    await server.smarts3.runLifecycle();
    assert.deepEqual(await classes(), { 'docs/a@latest': 'GLACIER_IR', 'docs/a@first': 'GLACIER', 'other@latest': 'STANDARD' });
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/a' }))).StorageClass, 'GLACIER_IR');
    assert.equal((await server.smarts3.runLifecycle()).transitioned, 0, 'a transition happens once');

    await pause(DAY_MS * 2.5); // day 6: past the second transition
    await server.smarts3.runLifecycle();
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/a' }))).StorageClass, 'DEEP_ARCHIVE');
    const archived = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/a' })));
    assert.equal(archived.name, 'InvalidObjectState', 'an archived version needs a restore first');
    await s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'docs/a', RestoreRequest: { Days: 1 } }));
    const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/a' }));
    assert.equal(await body.Body!.transformToString(), 'two', 'the bytes did not move');
  });

  it('serves archived objects only through copies RestoreObject makes, for its days', async () => {
    const bucket = uniqueBucket('life-restore');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cold', Body: 'frozen', StorageClass: 'GLACIER' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'deep', Body: 'deeper', StorageClass: 'DEEP_ARCHIVE' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'instant', Body: 'ir', StorageClass: 'GLACIER_IR' }));

    const refused = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cold' })));
    assert.equal(refused.name, 'InvalidObjectState');
    assert.equal(refused.$metadata.httpStatusCode, 403);
    assert.equal((refused as unknown as { StorageClass?: string }).StorageClass, 'GLACIER', 'the error names the class');
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'deep' })))).name, 'InvalidObjectState');
    const copyRefused = await s3Error(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'thawed', CopySource: `${bucket}/cold` })));
    assert.equal(copyRefused.name, 'InvalidObjectState');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cold' }));
    assert.equal(head.StorageClass, 'GLACIER', 'HEAD answers for an archived object');
    assert.equal(head.Restore, undefined);
    const instant = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'instant' }));
    assert.equal(await instant.Body!.transformToString(), 'ir', 'GLACIER_IR reads at once');

    const notArchived = await s3Error(s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'instant', RestoreRequest: { Days: 1 } })));
    assert.equal(notArchived.name, 'InvalidObjectState');
    const noDays = await s3Error(s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'cold', RestoreRequest: { Days: 0 } })));
    assert.equal(noDays.name, 'InvalidArgument');
    const missing = await s3Error(s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'nothing', RestoreRequest: { Days: 1 } })));
    assert.equal(missing.name, 'NoSuchKey');

    const restoredAt = Date.now();
    const restored = await s3.send(
      new RestoreObjectCommand({ Bucket: bucket, Key: 'cold', RestoreRequest: { Days: 5, GlacierJobParameters: { Tier: 'Bulk' } } }),
    );
    assert.equal(restored.$metadata.httpStatusCode, 202, 'a restore started');
    const again = await s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: 'cold', RestoreRequest: { Days: 10 } }));
    assert.equal(again.$metadata.httpStatusCode, 200, 'a copy was there: its days start again');
    const restoredHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cold' }));
    const match = /^ongoing-request="false", expiry-date="([^"]+)"$/.exec(restoredHead.Restore ?? '');
    assert.ok(match, `x-amz-restore: ${restoredHead.Restore}`);
    const expiry = Date.parse(match[1]);
    assert.ok(Math.abs(expiry - (restoredAt + 10 * DAY_MS)) <= 1500, `${match[1]} is about ten test days away`);
    const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cold' }));
    assert.equal(await read.Body!.transformToString(), 'frozen');
    assert.equal(read.StorageClass, 'GLACIER', 'still archived: the copy is temporary');
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'thawed', CopySource: `${bucket}/cold` }));
    const thawed = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'thawed' }));
    assert.equal(thawed.StorageClass, undefined, 'a copy of the restored object is STANDARD');
    assert.equal(thawed.Restore, undefined);

    await pause(expiry - Date.now() + 1100); // the header's date has whole seconds
    const expired = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cold' })));
    assert.equal(expired.name, 'InvalidObjectState', 'the restored copy expired');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cold' }))).Restore, undefined);
  });

  it('announces expiry and abort dates in x-amz-expiration and x-amz-abort-date', async () => {
    const bucket = await bucketWith([
      { ID: 'late', Status: 'Enabled', Filter: {}, Expiration: { Days: 40 } },
      { ID: 'tmp rule "20"', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 20 } },
      { ID: 'uploads', Status: 'Enabled', Filter: { Prefix: 'up/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 30 } },
    ]);
    const announced = (expiration: string | undefined, rule: string, from: Date, days: number) => {
      const match = /^expiry-date="([^"]+)", rule-id="([^"]+)"$/.exec(expiration ?? '');
      assert.ok(match, `x-amz-expiration: ${expiration}`);
      assert.equal(decodeURIComponent(match[2]), rule, 'the id is URL-encoded');
      // A test day is 0.2 s, so the date is the write time plus the rule's days (HTTP dates have whole seconds).
      const due = from.getTime() + days * DAY_MS;
      assert.ok(Math.abs(Date.parse(match[1]) - due) <= 1000, `${match[1]} is about ${new Date(due).toUTCString()}`);
    };
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tmp/a', Body: 'soon gone' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tmp/a' }));
    announced(put.Expiration, 'tmp rule "20"', head.LastModified!, 20);
    announced(head.Expiration, 'tmp rule "20"', head.LastModified!, 20);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'tmp/a' }));
    await get.Body!.transformToString();
    announced(get.Expiration, 'tmp rule "20"', head.LastModified!, 20);
    const elsewhere = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept/b', Body: 'x' }));
    const elsewhereHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kept/b' }));
    announced(elsewhere.Expiration, 'late', elsewhereHead.LastModified!, 40);

    const copied = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'tmp/copy', CopySource: `${bucket}/kept/b` }));
    const copiedHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tmp/copy' }));
    announced(copied.Expiration, 'tmp rule "20"', copiedHead.LastModified!, 20);
    const tmpUpload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'tmp/mp' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'tmp/mp', UploadId: tmpUpload.UploadId, PartNumber: 1, Body: 'part' }));
    const completed = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'tmp/mp', UploadId: tmpUpload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    const completedHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tmp/mp' }));
    announced(completed.Expiration, 'tmp rule "20"', completedHead.LastModified!, 20);
    // A retried completion (its first answer lost) gets the same answer, the header included.
    const retried = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'tmp/mp', UploadId: tmpUpload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    assert.equal(retried.ETag, completed.ETag);
    announced(retried.Expiration, 'tmp rule "20"', completedHead.LastModified!, 20);

    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'up/big' }));
    assert.equal(upload.AbortRuleId, 'uploads');
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'up/' }));
    const initiated = listed.Uploads![0].Initiated!.getTime();
    assert.ok(Math.abs(upload.AbortDate!.getTime() - (initiated + 30 * DAY_MS)) <= 1000, String(upload.AbortDate));
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'up/big', UploadId: upload.UploadId }));
    assert.equal(parts.AbortRuleId, 'uploads');
    const outside = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'other/big' }));
    assert.equal(outside.AbortDate, undefined);

    // A bucket without rules announces nothing.
    const plain = uniqueBucket('life-none');
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    assert.equal((await s3.send(new PutObjectCommand({ Bucket: plain, Key: 'tmp/a', Body: 'x' }))).Expiration, undefined);
  });

  it('aborts unfinished multipart uploads after their days, and runs in the background too', async () => {
    const bucket = await bucketWith([
      { ID: 'uploads', Status: 'Enabled', Filter: { Prefix: 'up/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
      { ID: 'scratch', Status: 'Enabled', Filter: { Prefix: 'scratch/' }, Expiration: { Days: 1 } },
    ]);
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'up/big' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'elsewhere/big' }));
    await pause(DAY_MS + 50);
    await server.smarts3.runLifecycle();
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual(uploads.Uploads!.map((u) => u.Key), ['elsewhere/big']);

    // No runLifecycle: the worker (every second here) expires it by itself.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'scratch/x', Body: 'x' }));
    const deadline = Date.now() + 10_000;
    while ((await keys(bucket)).includes('scratch/x') && Date.now() < deadline) await pause(100);
    assert.deepEqual(await keys(bucket), []);
  });
});
