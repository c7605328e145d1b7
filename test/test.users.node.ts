// Several users, bucket ownership, canned and explicit ACLs, and anonymous access, as S3 decides
// them: two configured users (alice, bob) and unsigned (anonymous) clients, with auth on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetBucketRequestPaymentCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { s3Error, startTestServer, tempDir, type ITestServer } from './helpers.js';

const ALICE = {
  accessKeyId: 'ALICEKEY',
  secretAccessKey: 'alice-secret',
  canonicalUserId: 'a11ce0000000000000000000000000000000000000000000000000000000a11c',
  displayName: 'alice',
};
const BOB = { accessKeyId: 'BOBKEY', secretAccessKey: 'bob-secret' };
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

let server: ITestServer;
let alice: S3Client;
let bob: S3Client;
let anonymous: S3Client;
let bobId: string;
const directory = tempDir('users');

function client(credentials: { accessKeyId: string; secretAccessKey: string }, unsigned = false): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    // An anonymous client: requests go out without any signature.
    ...(unsigned ? { signer: { sign: async (request: any) => request } } : {}),
  });
}

async function denied(promise: Promise<unknown>) {
  const error = await s3Error(promise);
  assert.equal(error.$metadata.httpStatusCode, 403, `${error.name}: ${error.message}`);
  if (error.name !== 'Forbidden') assert.equal(error.name, 'AccessDenied');
}

async function read(c: S3Client, Bucket: string, Key: string) {
  const get = await c.send(new GetObjectCommand({ Bucket, Key }));
  return get.Body!.transformToString();
}

before(async () => {
  server = await startTestServer('users', { auth: { enabled: true, credentials: [ALICE, BOB] }, storage: { directory } });
  alice = client(ALICE);
  bob = client(BOB);
  anonymous = client({ accessKeyId: 'x', secretAccessKey: 'x' }, true);
  await alice.send(new CreateBucketCommand({ Bucket: 'alice-private' }));
  await bob.send(new CreateBucketCommand({ Bucket: 'bob-private' }));
  bobId = (await bob.send(new ListBucketsCommand({}))).Owner!.ID!;
});
after(async () => {
  for (const c of [alice, bob, anonymous]) c?.destroy();
  await server?.stop();
});

describe('owners', () => {
  it('shows each user only their own buckets, with themselves as owner', async () => {
    const mine = await alice.send(new ListBucketsCommand({}));
    assert.deepEqual(mine.Buckets!.map((b) => b.Name), ['alice-private']);
    assert.deepEqual(mine.Owner, { ID: ALICE.canonicalUserId, DisplayName: 'alice' });
    const his = await bob.send(new ListBucketsCommand({}));
    assert.deepEqual(his.Buckets!.map((b) => b.Name), ['bob-private']);
    assert.match(his.Owner!.ID!, /^[0-9a-f]{64}$/);
    assert.equal(his.Owner!.DisplayName, 'bobkey');
    await denied(anonymous.send(new ListBucketsCommand({})));
  });

  it('answers BucketAlreadyExists for another user\'s bucket and 200 for your own (us-east-1)', async () => {
    const taken = await s3Error(bob.send(new CreateBucketCommand({ Bucket: 'alice-private' })));
    assert.equal(taken.name, 'BucketAlreadyExists');
    assert.equal(taken.$metadata.httpStatusCode, 409);
    const again = await alice.send(new CreateBucketCommand({ Bucket: 'alice-private' }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    await denied(anonymous.send(new CreateBucketCommand({ Bucket: 'anonymous-bucket' })));
  });

  it('answers BucketAlreadyOwnedByYou outside us-east-1', async () => {
    const eu = await startTestServer('users-eu', { server: { region: 'eu-west-1' } });
    try {
      await eu.client.send(new CreateBucketCommand({ Bucket: 'eu-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      const again = await s3Error(eu.client.send(new CreateBucketCommand({ Bucket: 'eu-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })));
      assert.equal(again.name, 'BucketAlreadyOwnedByYou');
      assert.equal(again.$metadata.httpStatusCode, 409);
    } finally {
      await eu.stop();
    }
  });

  it('lets only the owner read a bucket\'s request-payment configuration', async () => {
    const mine = await alice.send(new GetBucketRequestPaymentCommand({ Bucket: 'alice-private' }));
    assert.equal(mine.Payer, 'BucketOwner');
    await denied(bob.send(new GetBucketRequestPaymentCommand({ Bucket: 'alice-private' })));
    await denied(anonymous.send(new GetBucketRequestPaymentCommand({ Bucket: 'alice-private' })));
  });

  it('checks x-amz-expected-bucket-owner', async () => {
    await alice.send(new ListObjectsV2Command({ Bucket: 'alice-private', ExpectedBucketOwner: ALICE.canonicalUserId }));
    await denied(alice.send(new ListObjectsV2Command({ Bucket: 'alice-private', ExpectedBucketOwner: bobId })));
  });
});

describe('private by default', () => {
  it('keeps other users and anonymous clients out', async () => {
    await alice.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'secret.txt', Body: 'alice only' }));
    assert.equal(await read(alice, 'alice-private', 'secret.txt'), 'alice only');
    await denied(bob.send(new GetObjectCommand({ Bucket: 'alice-private', Key: 'secret.txt' })));
    await denied(bob.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'intrusion', Body: 'x' })));
    await denied(bob.send(new ListObjectsV2Command({ Bucket: 'alice-private' })));
    await denied(bob.send(new GetBucketAclCommand({ Bucket: 'alice-private' })));
    await denied(anonymous.send(new GetObjectCommand({ Bucket: 'alice-private', Key: 'secret.txt' })));
    await denied(anonymous.send(new ListObjectsV2Command({ Bucket: 'alice-private' })));
    // Without permission to list, a missing key is AccessDenied too (not NoSuchKey).
    await denied(bob.send(new GetObjectCommand({ Bucket: 'alice-private', Key: 'missing' })));
    const missing = await s3Error(alice.send(new GetObjectCommand({ Bucket: 'alice-private', Key: 'missing' })));
    assert.equal(missing.name, 'NoSuchKey');
  });

  it('checks read access to the copy source and write access to the destination', async () => {
    await denied(bob.send(new CopyObjectCommand({ Bucket: 'bob-private', Key: 'stolen', CopySource: 'alice-private/secret.txt' })));
    await denied(alice.send(new CopyObjectCommand({ Bucket: 'bob-private', Key: 'pushed', CopySource: 'alice-private/secret.txt' })));
    await alice.send(
      new PutObjectAclCommand({ Bucket: 'alice-private', Key: 'secret.txt', GrantRead: `id="${bobId}"` }),
    );
    await bob.send(new CopyObjectCommand({ Bucket: 'bob-private', Key: 'copied', CopySource: 'alice-private/secret.txt' }));
    assert.equal(await read(bob, 'bob-private', 'copied'), 'alice only');
  });
});

describe('canned ACLs', () => {
  it('public-read objects serve anonymous GETs; public-read buckets anonymous listings', async () => {
    await alice.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'public.txt', Body: 'for everyone', ACL: 'public-read' }));
    assert.equal(await read(anonymous, 'alice-private', 'public.txt'), 'for everyone');
    assert.equal(await read(bob, 'alice-private', 'public.txt'), 'for everyone');
    const plain = await fetch(`${server.endpoint}/alice-private/public.txt`);
    assert.equal(await plain.text(), 'for everyone');
    await denied(anonymous.send(new ListObjectsV2Command({ Bucket: 'alice-private' })));
    await denied(anonymous.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'public.txt', Body: 'defaced' })));

    await alice.send(new CreateBucketCommand({ Bucket: 'alice-listing', ACL: 'public-read' }));
    await alice.send(new PutObjectCommand({ Bucket: 'alice-listing', Key: 'listed-but-private', Body: 'x' }));
    const listed = await anonymous.send(new ListObjectsV2Command({ Bucket: 'alice-listing' }));
    assert.deepEqual(listed.Contents!.map((c) => c.Key), ['listed-but-private']);
    await denied(anonymous.send(new GetObjectCommand({ Bucket: 'alice-listing', Key: 'listed-but-private' })));
  });

  it('judges a request for a version by that version\'s ACL, not the latest one\'s', async () => {
    const bucket = 'alice-versions';
    await alice.send(new CreateBucketCommand({ Bucket: bucket }));
    await alice.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const secret = (await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'private draft' }))).VersionId!;
    const published = (await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'published', ACL: 'public-read' }))).VersionId!;
    const get = (c: S3Client, VersionId?: string) => c.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId }));
    assert.equal(await (await get(anonymous)).Body!.transformToString(), 'published');
    assert.equal(await (await get(anonymous, published)).Body!.transformToString(), 'published');
    // The latest version is public; the older one is not, and asking for it by id changes nothing.
    await denied(get(anonymous, secret));
    await denied(get(bob, secret));
    await denied(bob.send(new CopyObjectCommand({ Bucket: 'bob-private', Key: 'stolen', CopySource: `${bucket}/doc?versionId=${secret}` })));
    assert.equal(await (await get(alice, secret)).Body!.transformToString(), 'private draft');
    // And the other way round: a public older version stays readable behind a private latest one.
    await alice.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'doc', VersionId: secret, ACL: 'public-read' }));
    await alice.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'doc', VersionId: published, ACL: 'private' }));
    assert.equal(await (await get(anonymous, secret)).Body!.transformToString(), 'private draft');
    await denied(get(anonymous));
  });

  it('gives a delete marker to whoever deleted, not to the bucket owner', async () => {
    const bucket = 'alice-shared-versions';
    await alice.send(new CreateBucketCommand({ Bucket: bucket, ACL: 'public-read-write' }));
    await alice.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared', Body: 'x' }));
    await bob.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'shared' }));
    await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'mine', Body: 'x' }));
    await alice.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'mine' }));
    const versions = await alice.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const aliceId = (await alice.send(new ListBucketsCommand({}))).Owner!.ID!;
    assert.deepEqual(
      versions.DeleteMarkers!.map((m) => [m.Key, m.Owner?.ID]),
      [['mine', aliceId], ['shared', bobId]],
    );
  });

  it('public-read-write buckets take anonymous PUTs, owned by whoever wrote them', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'alice-dropbox', ACL: 'public-read-write' }));
    await anonymous.send(new PutObjectCommand({ Bucket: 'alice-dropbox', Key: 'anon.txt', Body: 'dropped anonymously', ACL: 'public-read' }));
    await bob.send(new PutObjectCommand({ Bucket: 'alice-dropbox', Key: 'bob.txt', Body: 'bob private' }));
    await bob.send(new PutObjectCommand({ Bucket: 'alice-dropbox', Key: 'bob-shared.txt', Body: 'for alice', ACL: 'bucket-owner-full-control' }));
    assert.equal(await read(alice, 'alice-dropbox', 'anon.txt'), 'dropped anonymously');
    // Objects belong to their writers: the bucket owner reads only what was granted to her.
    await denied(alice.send(new GetObjectCommand({ Bucket: 'alice-dropbox', Key: 'bob.txt' })));
    assert.equal(await read(alice, 'alice-dropbox', 'bob-shared.txt'), 'for alice');
    // Listings name each object's owner.
    const owned = await alice.send(new ListObjectsV2Command({ Bucket: 'alice-dropbox', FetchOwner: true }));
    const owners = Object.fromEntries(owned.Contents!.map((c) => [c.Key, c.Owner!.DisplayName]));
    assert.deepEqual(owners, { 'anon.txt': 'anonymous', 'bob-shared.txt': 'bobkey', 'bob.txt': 'bobkey' });
    const v1 = await alice.send(new ListObjectsCommand({ Bucket: 'alice-dropbox', Prefix: 'bob.txt' }));
    assert.equal(v1.Contents![0].Owner!.ID, bobId);
    const versions = await alice.send(new ListObjectVersionsCommand({ Bucket: 'alice-dropbox', Prefix: 'anon' }));
    assert.equal(versions.Versions![0].Owner!.DisplayName, 'anonymous');
  });

  it('authenticated-read lets any signed user read, not anonymous ones', async () => {
    await alice.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'members.txt', Body: 'members only', ACL: 'authenticated-read' }));
    assert.equal(await read(bob, 'alice-private', 'members.txt'), 'members only');
    await denied(anonymous.send(new GetObjectCommand({ Bucket: 'alice-private', Key: 'members.txt' })));
  });

  it('rejects unknown canned ACLs and mixing canned with grant headers', async () => {
    const unknown = await s3Error(alice.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'x', Body: 'x', ACL: 'world-writable' as any })));
    assert.equal(unknown.name, 'InvalidArgument');
    const both = await s3Error(
      alice.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'x', Body: 'x', ACL: 'private', GrantRead: `id="${bobId}"` })),
    );
    assert.equal(both.name, 'InvalidRequest');
  });
});

describe('ACL documents', () => {
  it('reads and writes bucket and object ACLs, with grant headers and AccessControlPolicy bodies', async () => {
    const bucketAcl = await alice.send(new GetBucketAclCommand({ Bucket: 'alice-listing' }));
    assert.deepEqual(bucketAcl.Owner, { ID: ALICE.canonicalUserId, DisplayName: 'alice' });
    assert.deepEqual(
      bucketAcl.Grants!.map((g) => [g.Grantee!.Type, g.Grantee!.ID ?? g.Grantee!.URI, g.Permission]),
      [
        ['CanonicalUser', ALICE.canonicalUserId, 'FULL_CONTROL'],
        ['Group', ALL_USERS, 'READ'],
      ],
    );
    const objectAcl = await alice.send(new GetObjectAclCommand({ Bucket: 'alice-private', Key: 'public.txt' }));
    assert.ok(objectAcl.Grants!.some((g) => g.Grantee!.URI === ALL_USERS && g.Permission === 'READ'));

    await alice.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'granted.txt', Body: 'for bob' }));
    await denied(bob.send(new GetObjectCommand({ Bucket: 'alice-private', Key: 'granted.txt' })));
    await alice.send(
      new PutObjectAclCommand({
        Bucket: 'alice-private',
        Key: 'granted.txt',
        AccessControlPolicy: {
          Owner: { ID: ALICE.canonicalUserId },
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: ALICE.canonicalUserId }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'CanonicalUser', ID: bobId }, Permission: 'READ' },
          ],
        },
      }),
    );
    assert.equal(await read(bob, 'alice-private', 'granted.txt'), 'for bob');
    // READ is not READ_ACP or WRITE_ACP.
    await denied(bob.send(new GetObjectAclCommand({ Bucket: 'alice-private', Key: 'granted.txt' })));
    await denied(bob.send(new PutObjectAclCommand({ Bucket: 'alice-private', Key: 'granted.txt', ACL: 'public-read' })));

    await alice.send(new PutBucketAclCommand({ Bucket: 'alice-private', GrantWrite: `id="${bobId}"`, GrantFullControl: `id="${ALICE.canonicalUserId}"` }));
    await bob.send(new PutObjectCommand({ Bucket: 'alice-private', Key: 'bob-was-here', Body: 'granted write' }));
    await denied(bob.send(new ListObjectsV2Command({ Bucket: 'alice-private' })));
  });

  it('keeps ACLs and owners across a restart', async () => {
    await server.smarts3.stop();
    const again = await startTestServer('users-again', { auth: { enabled: true, credentials: [ALICE, BOB] }, storage: { directory, cleanSlate: false } });
    try {
      const anon = new S3Client({ endpoint: again.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, signer: { sign: async (r: any) => r } });
      const get = await anon.send(new GetObjectCommand({ Bucket: 'alice-private', Key: 'public.txt' }));
      assert.equal(await get.Body!.transformToString(), 'for everyone');
      await assert.rejects(anon.send(new GetObjectCommand({ Bucket: 'alice-private', Key: 'secret.txt' })), (e: S3ServiceException) => e.name === 'AccessDenied');
      const bobAgain = new S3Client({ endpoint: again.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: BOB });
      assert.deepEqual((await bobAgain.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name), ['bob-private']);
      anon.destroy();
      bobAgain.destroy();
    } finally {
      await again.smarts3.stop();
    }
    // Restore the shared server for the suite's after() hook.
    server = await startTestServer('users', { auth: { enabled: true, credentials: [ALICE, BOB] }, storage: { directory, cleanSlate: false } });
  });
});

describe('POST Object and anonymous users', () => {
  it('takes an unsigned form only into a bucket everyone may write', async () => {
    const post = (bucket: string) => {
      const form = new FormData();
      form.append('key', 'form.txt');
      form.append('file', new Blob(['posted']), 'form.txt');
      return fetch(`${server.endpoint}/${bucket}`, { method: 'POST', body: form });
    };
    assert.equal((await post('alice-dropbox')).status, 204);
    const refused = await post('alice-private');
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /<Code>AccessDenied<\/Code>/);
  });
});

describe('with auth off', () => {
  it('stays open and reports the first configured user as owner', async () => {
    const open = await startTestServer('users-open', { auth: { enabled: false, credentials: [ALICE, BOB] } });
    try {
      const anon = new S3Client({ endpoint: open.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, signer: { sign: async (r: any) => r } });
      await anon.send(new CreateBucketCommand({ Bucket: 'open-bucket' }));
      await anon.send(new PutObjectCommand({ Bucket: 'open-bucket', Key: 'k', Body: 'open' }));
      const list = await anon.send(new ListBucketsCommand({}));
      assert.deepEqual(list.Owner, { ID: ALICE.canonicalUserId, DisplayName: 'alice' });
      const acl = await anon.send(new GetBucketAclCommand({ Bucket: 'open-bucket' }));
      assert.equal(acl.Owner!.ID, ALICE.canonicalUserId);
      const listed = await anon.send(new ListObjectsV2Command({ Bucket: 'open-bucket', FetchOwner: true }));
      assert.equal(listed.Contents![0].Owner!.DisplayName, 'alice');
      anon.destroy();
    } finally {
      await open.stop();
    }
  });
});
