// Object lock through the AWS SDK v3: buckets created with it, default retention, per-version
// retention and legal holds, and the refusals S3 gives for locked versions.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { s3Error, startTestServer, uniqueBucket, type ITestServer } from './helpers.js';

let server: ITestServer;
let s3: S3Client;

before(async () => {
  server = await startTestServer('objectlock');
  s3 = server.client;
});

after(async () => {
  await server.stop();
});

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);

async function lockedBucket(prefix: string): Promise<string> {
  const bucket = uniqueBucket(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  return bucket;
}

describe('object lock', () => {
  it('is enabled at bucket creation, turns versioning on for good, and keeps a default retention', async () => {
    const bucket = await lockedBucket('lock-config');
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
    const initial = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    assert.equal(initial.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
    assert.equal(initial.ObjectLockConfiguration?.Rule, undefined);
    const suspend = await s3Error(
      s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } })),
    );
    assert.equal(suspend.name, 'InvalidBucketState');
    assert.equal(suspend.$metadata.httpStatusCode, 409);

    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2 } } },
      }),
    );
    const config = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    assert.deepEqual(config.ObjectLockConfiguration?.Rule?.DefaultRetention, { Mode: 'GOVERNANCE', Days: 2 });
    const both = await s3Error(
      s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: bucket,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1, Years: 1 } } },
        }),
      ),
    );
    assert.equal(both.name, 'MalformedXML');
    const zero = await s3Error(
      s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: bucket,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 0 } } },
        }),
      ),
    );
    assert.equal(zero.name, 'InvalidArgument');

    // A new version gets the default retention.
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'kept' }));
    const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: put.VersionId }));
    assert.equal(retention.Retention?.Mode, 'GOVERNANCE');
    const until = retention.Retention!.RetainUntilDate!.getTime();
    assert.ok(Math.abs(until - inDays(2).getTime()) < 60_000, `about two days from now: ${retention.Retention?.RetainUntilDate}`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.equal(head.ObjectLockMode, 'GOVERNANCE');
    assert.equal(head.ObjectLockRetainUntilDate?.getTime(), until);

    // Bypassing governance removes the version; without it, it stays.
    const denied = await s3Error(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: put.VersionId })));
    assert.equal(denied.name, 'AccessDenied');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: put.VersionId, BypassGovernanceRetention: true }));
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })))).name, 'NoSuchKey');
  });

  it('refuses object lock where the bucket has none', async () => {
    const plain = uniqueBucket('lock-none');
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    const missing = await s3Error(s3.send(new GetObjectLockConfigurationCommand({ Bucket: plain })));
    assert.equal(missing.name, 'ObjectLockConfigurationNotFoundError');
    assert.equal(missing.$metadata.httpStatusCode, 404);
    const unversioned = await s3Error(
      s3.send(new PutObjectLockConfigurationCommand({ Bucket: plain, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } })),
    );
    assert.equal(unversioned.name, 'InvalidBucketState');
    const withHeaders = await s3Error(
      s3.send(new PutObjectCommand({ Bucket: plain, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inDays(1) })),
    );
    assert.equal(withHeaders.name, 'InvalidRequest');
    await s3.send(new PutObjectCommand({ Bucket: plain, Key: 'k', Body: 'x' }));
    const retention = await s3Error(s3.send(new GetObjectRetentionCommand({ Bucket: plain, Key: 'k' })));
    assert.equal(retention.name, 'InvalidRequest');
    // A versioned bucket can be given object lock afterwards.
    await s3.send(new PutBucketVersioningCommand({ Bucket: plain, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: plain, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }));
    assert.equal((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: plain }))).ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
  });

  it('never lets a COMPLIANCE version go early, or its retention shrink', async () => {
    const bucket = await lockedBucket('lock-compliance');
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'record', Body: 'audit', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: inDays(3) }),
    );
    const VersionId = put.VersionId;
    const bypass = await s3Error(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'record', VersionId, BypassGovernanceRetention: true })));
    assert.equal(bypass.name, 'AccessDenied');
    const batch = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: 'record', VersionId }] } }),
    );
    assert.deepEqual(batch.Errors!.map((e) => e.Code), ['AccessDenied']);
    const shorter = await s3Error(
      s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'record', VersionId, BypassGovernanceRetention: true, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: inDays(1) } })),
    );
    assert.equal(shorter.name, 'AccessDenied');
    const weaker = await s3Error(
      s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'record', VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inDays(5) } })),
    );
    assert.equal(weaker.name, 'AccessDenied');
    await s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'record', VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: inDays(10) } }));
    const extended = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'record', VersionId }));
    assert.ok(extended.Retention!.RetainUntilDate!.getTime() > inDays(9).getTime());
    // A plain DELETE only puts a marker on top; the locked version stays readable.
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'record' }));
    assert.equal(marker.DeleteMarker, true);
    const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'record', VersionId }));
    assert.equal(await kept.Body!.transformToString(), 'audit');
    const past = await s3Error(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'past', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(Date.now() - 1000) })),
    );
    assert.equal(past.name, 'InvalidArgument');
  });

  it('keeps a version under legal hold until the hold is lifted', async () => {
    const bucket = await lockedBucket('lock-hold');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'evidence', Body: 'x', ObjectLockLegalHoldStatus: 'ON' }));
    const VersionId = put.VersionId;
    assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'evidence', VersionId }))).LegalHold?.Status, 'ON');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'evidence' }))).ObjectLockLegalHoldStatus, 'ON');
    const held = await s3Error(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'evidence', VersionId, BypassGovernanceRetention: true })));
    assert.equal(held.name, 'AccessDenied');
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'evidence', VersionId, LegalHold: { Status: 'OFF' } }));
    assert.equal((await s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'evidence', VersionId }))).LegalHold?.Status, 'OFF');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'evidence', VersionId }));
    const gone = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'evidence', VersionId })));
    assert.equal(gone.name, 'NoSuchVersion');

    // As S3: an upload with lock parameters must prove its integrity (auth is off here, so a
    // plain HTTP PUT reaches the check).
    const url = `${server.endpoint}/${bucket}/raw`;
    const hold = { 'x-amz-object-lock-legal-hold': 'ON' };
    const bare = await fetch(url, { method: 'PUT', headers: hold, body: 'raw' });
    assert.equal(bare.status, 400);
    assert.match(await bare.text(), /<Code>InvalidRequest<\/Code>/);
    const md5 = crypto.createHash('md5').update('raw').digest('base64');
    const proven = await fetch(url, { method: 'PUT', headers: { ...hold, 'content-md5': md5 }, body: 'raw' });
    assert.equal(proven.status, 200);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'raw' }))).ObjectLockLegalHoldStatus, 'ON');
  });

  it('takes retention and legal hold from POST Object form fields', async () => {
    const bucket = await lockedBucket('lock-post');
    const post = async (fields: Record<string, string>) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob(['posted']), 'f.txt');
      const response = await fetch(`${server.endpoint}/${bucket}`, { method: 'POST', body: form });
      return { status: response.status, text: await response.text() };
    };
    const until = inDays(2);
    const locked = await post({
      key: 'posted',
      'x-amz-object-lock-mode': 'COMPLIANCE',
      'x-amz-object-lock-retain-until-date': until.toISOString(),
      'x-amz-object-lock-legal-hold': 'ON',
    });
    assert.equal(locked.status, 204, locked.text);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'posted' }));
    assert.equal(head.ObjectLockMode, 'COMPLIANCE');
    assert.equal(head.ObjectLockRetainUntilDate?.toISOString(), until.toISOString());
    assert.equal(head.ObjectLockLegalHoldStatus, 'ON');
    const refused = await s3Error(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'posted', VersionId: head.VersionId })));
    assert.equal(refused.name, 'AccessDenied');
    const halfGiven = await post({ key: 'half', 'x-amz-object-lock-mode': 'GOVERNANCE' });
    assert.equal(halfGiven.status, 400, halfGiven.text);
    assert.match(halfGiven.text, /<Code>InvalidArgument<\/Code>/);
  });
});
