// Bucket policies through the AWS SDK v3, anonymous fetch() and browser-style form posts, with
// auth on: two users (alice owns the buckets, bob is another account) and unsigned clients.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  DeleteBucketOwnershipControlsCommand,
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { s3Error, startTestServer, tempDir, type ITestServer } from './helpers.js';

const ALICE = { accessKeyId: 'ALICEKEY', secretAccessKey: 'alice-secret', displayName: 'alice', accountId: '111122223333' };
const BOB = { accessKeyId: 'BOBKEY', secretAccessKey: 'bob-secret', displayName: 'bob', accountId: '444455556666' };

const publicRead = (bucket: string) => ({
  Version: '2012-10-17',
  Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
});

let server: ITestServer;
let alice: S3Client;
let bob: S3Client;
const directory = tempDir('policy');

function client(credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
}

async function putPolicy(bucket: string, policy: unknown) {
  await alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
}

async function status(promise: Promise<unknown>): Promise<number> {
  return (await s3Error(promise)).$metadata.httpStatusCode!;
}

/** An unsigned request, as a browser or curl sends it. */
function anonymous(method: string, path: string, body?: string) {
  return fetch(`${server.endpoint}${path}`, { method, body });
}

before(async () => {
  server = await startTestServer('policy', {
    auth: { enabled: true, credentials: [ALICE, BOB] },
    storage: { directory },
    buckets: [{ name: 'seeded-public', policy: publicRead('seeded-public') }],
  });
  alice = client(ALICE);
  bob = client(BOB);
});
after(async () => {
  for (const c of [alice, bob]) c?.destroy();
  await server?.stop();
});

describe('the policy API', () => {
  it('puts, gets and deletes a policy, and tells whether it is public', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'api' }));
    assert.equal((await s3Error(alice.send(new GetBucketPolicyCommand({ Bucket: 'api' })))).name, 'NoSuchBucketPolicy');
    assert.equal(await status(alice.send(new GetBucketPolicyStatusCommand({ Bucket: 'api' }))), 404);
    const document = JSON.stringify(publicRead('api'), null, 2);
    const put = await alice.send(new PutBucketPolicyCommand({ Bucket: 'api', Policy: document }));
    assert.equal(put.$metadata.httpStatusCode, 204);
    assert.equal((await alice.send(new GetBucketPolicyCommand({ Bucket: 'api' }))).Policy, document);
    const publicStatus = await alice.send(new GetBucketPolicyStatusCommand({ Bucket: 'api' }));
    assert.equal(publicStatus.PolicyStatus!.IsPublic, true);
    // Granting one account is not public; neither is "*" pinned to an address range.
    await putPolicy('api', {
      Statement: [
        { Effect: 'Allow', Principal: { AWS: BOB.accountId }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::api/*' },
        { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::api', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      ],
    });
    assert.equal((await alice.send(new GetBucketPolicyStatusCommand({ Bucket: 'api' }))).PolicyStatus!.IsPublic, false);
    // Only the owner manages the policy.
    assert.equal(await status(bob.send(new GetBucketPolicyCommand({ Bucket: 'api' }))), 403);
    assert.equal(await status(bob.send(new DeleteBucketPolicyCommand({ Bucket: 'api' }))), 403);
    const deleted = await alice.send(new DeleteBucketPolicyCommand({ Bucket: 'api' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.equal((await s3Error(alice.send(new GetBucketPolicyCommand({ Bucket: 'api' })))).name, 'NoSuchBucketPolicy');
    assert.equal((await s3Error(alice.send(new GetBucketPolicyCommand({ Bucket: 'no-such-bucket' })))).name, 'NoSuchBucket');
  });

  it('refuses malformed policies with MalformedPolicy, saying what is wrong', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'strict' }));
    const statement = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::strict/*' };
    const cases: [unknown, RegExp][] = [
      ['{not json', /invalid Json/],
      [{ Version: '2012-10-17' }, /Missing required field Statement/],
      [{ Statement: [{ ...statement, Principal: undefined }] }, /Missing required field Principal/],
      [{ Statement: [{ ...statement, Principal: { AWS: 'bob' } }] }, /Invalid principal in policy/],
      [{ Statement: [{ ...statement, Action: 's3:GetObjekt' }] }, /Policy has invalid action/],
      [{ Statement: [{ ...statement, Resource: 'arn:aws:s3:::other-bucket/*' }] }, /Policy has invalid resource/],
      [{ Statement: [{ ...statement, Action: 's3:ListBucket' }] }, /Action does not apply to any resource\(s\) in statement/],
      [{ Statement: [{ ...statement, Condition: { StringEquals: { 's3:no-such-key': 'x' } } }] }, /invalid condition key/],
    ];
    for (const [policy, message] of cases) {
      const error = await s3Error(alice.send(new PutBucketPolicyCommand({
        Bucket: 'strict',
        Policy: typeof policy === 'string' ? policy : JSON.stringify(policy),
      })));
      assert.equal(error.name, 'MalformedPolicy', String(message));
      assert.equal(error.$metadata.httpStatusCode, 400);
      assert.match(error.message, message);
    }
    assert.equal((await s3Error(alice.send(new GetBucketPolicyCommand({ Bucket: 'strict' })))).name, 'NoSuchBucketPolicy');
  });
});

describe('evaluation', () => {
  it('opens a bucket to anonymous readers, and to nothing else', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'site' }));
    await alice.send(new PutObjectCommand({ Bucket: 'site', Key: 'index.html', Body: '<h1>hi</h1>' }));
    assert.equal((await anonymous('GET', '/site/index.html')).status, 403);
    await putPolicy('site', publicRead('site'));
    const page = await anonymous('GET', '/site/index.html');
    assert.equal(page.status, 200);
    assert.equal(await page.text(), '<h1>hi</h1>');
    assert.equal((await anonymous('PUT', '/site/evil.html', 'x')).status, 403);
    assert.equal((await anonymous('GET', '/site')).status, 403);
    // Without s3:ListBucket a missing key is AccessDenied, with it NoSuchKey (as S3 answers).
    assert.equal((await anonymous('GET', '/site/missing.html')).status, 403);
    await putPolicy('site', {
      Statement: [
        ...publicRead('site').Statement,
        { Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::site' },
      ],
    });
    const missing = await anonymous('GET', '/site/missing.html');
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /<Code>NoSuchKey<\/Code>/);
    assert.match(await (await anonymous('GET', '/site?list-type=2')).text(), /<Key>index.html<\/Key>/);
  });

  it('grants another account what the policy names, with conditions', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'team' }));
    await alice.send(new PutObjectCommand({ Bucket: 'team', Key: 'private/plan.txt', Body: 'p' }));
    assert.equal(await status(bob.send(new PutObjectCommand({ Bucket: 'team', Key: 'shared/a.txt', Body: 'a' }))), 403);
    await putPolicy('team', {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'BobWritesShared', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${BOB.accountId}:user/bob` }, Action: ['s3:PutObject', 's3:GetObject'], Resource: 'arn:aws:s3:::team/shared/*' },
        { Sid: 'OwnHome', Effect: 'Allow', Principal: { AWS: BOB.accountId }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::team/home/${aws:username}/*' },
        { Sid: 'BobListsShared', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${BOB.accountId}:root` }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::team', Condition: { StringLike: { 's3:prefix': 'shared/*' } } },
      ],
    });
    // Bob owns what he writes (ObjectWriter ownership): he hands alice control, as on S3, which
    // takes s3:PutObjectAcl besides s3:PutObject.
    const handOver = () => bob.send(new PutObjectCommand({ Bucket: 'team', Key: 'shared/a.txt', Body: 'from bob', ACL: 'bucket-owner-full-control' }));
    assert.equal(await status(handOver()), 403);
    const policy = JSON.parse((await alice.send(new GetBucketPolicyCommand({ Bucket: 'team' }))).Policy!);
    policy.Statement[0].Action.push('s3:PutObjectAcl');
    await putPolicy('team', policy);
    await handOver();
    const read = await alice.send(new GetObjectCommand({ Bucket: 'team', Key: 'shared/a.txt' }));
    assert.equal(await read.Body!.transformToString(), 'from bob');
    assert.equal(await status(bob.send(new PutObjectCommand({ Bucket: 'team', Key: 'private/b.txt', Body: 'b' }))), 403);
    // A policy variable: each user's own home folder.
    await bob.send(new PutObjectCommand({ Bucket: 'team', Key: 'home/bob/notes.txt', Body: 'n' }));
    assert.equal(await status(bob.send(new PutObjectCommand({ Bucket: 'team', Key: 'home/alice/notes.txt', Body: 'n' }))), 403);
    assert.equal(await status(bob.send(new GetObjectCommand({ Bucket: 'team', Key: 'private/plan.txt' }))), 403);
    const listed = await bob.send(new ListObjectsV2Command({ Bucket: 'team', Prefix: 'shared/' }));
    assert.deepEqual(listed.Contents!.map((o) => o.Key), ['shared/a.txt']);
    assert.equal(await status(bob.send(new ListObjectsV2Command({ Bucket: 'team', Prefix: 'private/' }))), 403);
    assert.equal(await status(bob.send(new ListObjectsV2Command({ Bucket: 'team' }))), 403);
  });

  it('lets an explicit Deny win over ownership, key by key in DeleteObjects, never over the policy itself', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'vault' }));
    for (const Key of ['keep/a.txt', 'tmp/b.txt']) await alice.send(new PutObjectCommand({ Bucket: 'vault', Key, Body: Key }));
    await putPolicy('vault', {
      Statement: [{ Sid: 'KeepForever', Effect: 'Deny', Principal: '*', Action: ['s3:DeleteObject', 's3:PutObject'], Resource: 'arn:aws:s3:::vault/keep/*' }],
    });
    assert.equal(await status(alice.send(new DeleteObjectCommand({ Bucket: 'vault', Key: 'keep/a.txt' }))), 403);
    assert.equal(await status(alice.send(new PutObjectCommand({ Bucket: 'vault', Key: 'keep/a.txt', Body: 'over' }))), 403);
    const result = await alice.send(new DeleteObjectsCommand({
      Bucket: 'vault',
      Delete: { Objects: [{ Key: 'keep/a.txt' }, { Key: 'tmp/b.txt' }] },
    }));
    assert.deepEqual(result.Deleted!.map((d) => d.Key), ['tmp/b.txt']);
    assert.deepEqual(result.Errors!.map((e) => [e.Key, e.Code]), [['keep/a.txt', 'AccessDenied']]);
    const kept = await alice.send(new GetObjectCommand({ Bucket: 'vault', Key: 'keep/a.txt' }));
    assert.equal(await kept.Body!.transformToString(), 'keep/a.txt');
    // Even a policy that denies everything cannot lock the owner out of the policy.
    await putPolicy('vault', { Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::vault', 'arn:aws:s3:::vault/*'] }] });
    assert.equal(await status(alice.send(new GetObjectCommand({ Bucket: 'vault', Key: 'keep/a.txt' }))), 403);
    assert.equal(await status(alice.send(new ListObjectsV2Command({ Bucket: 'vault' }))), 403);
    await alice.send(new DeleteBucketPolicyCommand({ Bucket: 'vault' }));
    await alice.send(new DeleteObjectCommand({ Bucket: 'vault', Key: 'keep/a.txt' }));
  });

  it('tests the client address and transport (aws:SourceIp, aws:SecureTransport)', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'lan' }));
    await alice.send(new PutObjectCommand({ Bucket: 'lan', Key: 'k', Body: 'v' }));
    await putPolicy('lan', {
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::lan/*', Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } },
      ],
    });
    assert.equal((await anonymous('GET', '/lan/k')).status, 200);
    await putPolicy('lan', {
      Statement: [
        { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::lan/*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      ],
    });
    assert.equal(await status(alice.send(new GetObjectCommand({ Bucket: 'lan', Key: 'k' }))), 403);
    // The common "deny plain HTTP" statement: this server speaks HTTP only, so it denies.
    await putPolicy('lan', {
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::lan/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
    });
    assert.equal(await status(alice.send(new GetObjectCommand({ Bucket: 'lan', Key: 'k' }))), 403);
    await alice.send(new DeleteBucketPolicyCommand({ Bucket: 'lan' }));
    assert.equal((await alice.send(new GetObjectCommand({ Bucket: 'lan', Key: 'k' }))).$metadata.httpStatusCode, 200);
  });

  it('lets a policy open form uploads (POST Object) to anonymous browsers', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'inbox' }));
    const post = () => {
      const form = new FormData();
      form.append('key', 'uploads/${filename}');
      form.append('acl', 'bucket-owner-full-control');
      form.append('file', new Blob(['hello']), 'note.txt');
      return fetch(`${server.endpoint}/inbox`, { method: 'POST', body: form });
    };
    assert.equal((await post()).status, 403);
    await putPolicy('inbox', {
      Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: 'arn:aws:s3:::inbox/uploads/*' }],
    });
    assert.equal((await post()).status, 204);
    const stored = await alice.send(new GetObjectCommand({ Bucket: 'inbox', Key: 'uploads/note.txt' }));
    assert.equal(await stored.Body!.transformToString(), 'hello');
  });
});

describe('the public access block', () => {
  it('stores the four settings, refuses public policies and ACLs, and ignores what is public', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'guarded' }));
    assert.equal((await s3Error(alice.send(new GetPublicAccessBlockCommand({ Bucket: 'guarded' })))).name, 'NoSuchPublicAccessBlockConfiguration');
    // Public before any block: a public policy, a public-read object, bob allowed by the policy.
    await putPolicy('guarded', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::guarded/policy/*' }],
    });
    await alice.send(new PutObjectCommand({ Bucket: 'guarded', Key: 'policy/a.txt', Body: 'a' }));
    await alice.send(new PutObjectCommand({ Bucket: 'guarded', Key: 'acl/b.txt', Body: 'b', ACL: 'public-read' }));
    assert.equal((await anonymous('GET', '/guarded/policy/a.txt')).status, 200);
    assert.equal((await anonymous('GET', '/guarded/acl/b.txt')).status, 200);
    assert.equal((await bob.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'policy/a.txt' }))).$metadata.httpStatusCode, 200);

    const block = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
    await alice.send(new PutPublicAccessBlockCommand({ Bucket: 'guarded', PublicAccessBlockConfiguration: block }));
    const stored = await alice.send(new GetPublicAccessBlockCommand({ Bucket: 'guarded' }));
    assert.deepEqual(stored.PublicAccessBlockConfiguration, block);
    assert.equal(await status(bob.send(new GetPublicAccessBlockCommand({ Bucket: 'guarded' }))), 403);
    // What is public is now ignored: the public policy for anyone outside alice's account, the
    // public-read grant for everyone; alice, the owner, still reads both.
    assert.equal((await anonymous('GET', '/guarded/policy/a.txt')).status, 403);
    assert.equal(await status(bob.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'policy/a.txt' }))), 403);
    assert.equal((await anonymous('GET', '/guarded/acl/b.txt')).status, 403);
    assert.equal((await alice.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'acl/b.txt' }))).$metadata.httpStatusCode, 200);
    // And new public ACLs and policies are refused; private ones are not.
    assert.equal(await status(alice.send(new PutObjectCommand({ Bucket: 'guarded', Key: 'c.txt', Body: 'c', ACL: 'public-read' }))), 403);
    assert.equal(await status(alice.send(new PutBucketAclCommand({ Bucket: 'guarded', ACL: 'public-read' }))), 403);
    await alice.send(new PutObjectCommand({ Bucket: 'guarded', Key: 'c.txt', Body: 'c', ACL: 'private' }));
    assert.equal(await status(alice.send(new PutBucketPolicyCommand({ Bucket: 'guarded', Policy: JSON.stringify(publicRead('guarded')) }))), 403);
    await putPolicy('guarded', {
      Statement: [{ Effect: 'Allow', Principal: { AWS: BOB.accountId }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::guarded/*' }],
    });
    assert.equal((await bob.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'c.txt' }))).$metadata.httpStatusCode, 200);

    const removed = await alice.send(new DeletePublicAccessBlockCommand({ Bucket: 'guarded' }));
    assert.equal(removed.$metadata.httpStatusCode, 204);
    assert.equal(await status(alice.send(new GetPublicAccessBlockCommand({ Bucket: 'guarded' }))), 404);
    assert.equal((await anonymous('GET', '/guarded/acl/b.txt')).status, 200);
  });
});

describe('object ownership', () => {
  it('disables ACLs with BucketOwnerEnforced: the bucket owner owns all, policies grant', async () => {
    const aliceId = (await alice.send(new ListBucketsCommand({}))).Owner!.ID!;
    await alice.send(new CreateBucketCommand({ Bucket: 'enforced', ObjectOwnership: 'BucketOwnerEnforced' }));
    const controls = await alice.send(new GetBucketOwnershipControlsCommand({ Bucket: 'enforced' }));
    assert.deepEqual(controls.OwnershipControls!.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    const refused = await s3Error(alice.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'p', Body: 'p', ACL: 'public-read' })));
    assert.equal(refused.name, 'AccessControlListNotSupported');
    assert.equal(refused.$metadata.httpStatusCode, 400);
    assert.equal((await s3Error(alice.send(new PutBucketAclCommand({ Bucket: 'enforced', ACL: 'public-read' })))).name, 'AccessControlListNotSupported');
    await putPolicy('enforced', {
      Statement: [{ Effect: 'Allow', Principal: { AWS: BOB.accountId }, Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: 'arn:aws:s3:::enforced/*' }],
    });
    // What bob writes is alice's: she reads it without any ACL, bob cannot.
    await bob.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'from-bob.txt', Body: 'b' }));
    const read = await alice.send(new GetObjectCommand({ Bucket: 'enforced', Key: 'from-bob.txt' }));
    assert.equal(await read.Body!.transformToString(), 'b');
    assert.equal((await alice.send(new GetObjectAclCommand({ Bucket: 'enforced', Key: 'from-bob.txt' }))).Owner!.ID, aliceId);
    assert.equal(await status(bob.send(new GetObjectCommand({ Bucket: 'enforced', Key: 'from-bob.txt' }))), 403);
    await bob.send(new PutObjectCommand({ Bucket: 'enforced', Key: 'full.txt', Body: 'f', ACL: 'bucket-owner-full-control' }));

    // An object written before ACLs were disabled reads as the bucket owner's, as on S3.
    await alice.send(new CreateBucketCommand({ Bucket: 'later' }));
    await alice.send(new PutBucketAclCommand({ Bucket: 'later', ACL: 'public-read-write' }));
    await bob.send(new PutObjectCommand({ Bucket: 'later', Key: 'old.txt', Body: 'o' }));
    await alice.send(new PutBucketAclCommand({ Bucket: 'later', ACL: 'private' }));
    await alice.send(new PutBucketOwnershipControlsCommand({ Bucket: 'later', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    const old = await alice.send(new GetObjectAclCommand({ Bucket: 'later', Key: 'old.txt' }));
    assert.equal(old.Owner!.ID, aliceId);
    assert.deepEqual(old.Grants!.map((g) => [g.Grantee!.ID, g.Permission]), [[aliceId, 'FULL_CONTROL']]);
    assert.equal(await (await alice.send(new GetObjectCommand({ Bucket: 'later', Key: 'old.txt' }))).Body!.transformToString(), 'o');

    await alice.send(new DeleteBucketOwnershipControlsCommand({ Bucket: 'enforced' }));
    assert.equal((await s3Error(alice.send(new GetBucketOwnershipControlsCommand({ Bucket: 'enforced' })))).name, 'OwnershipControlsNotFoundError');
  });

  it('gives the bucket owner what is written with bucket-owner-full-control under BucketOwnerPreferred', async () => {
    const aliceId = (await alice.send(new ListBucketsCommand({}))).Owner!.ID!;
    await alice.send(new CreateBucketCommand({ Bucket: 'preferred', ACL: 'public-read-write' }));
    // ACLs cannot be disabled while the bucket's ACL grants others.
    const enforce = { Bucket: 'preferred', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' as const }] } };
    assert.equal((await s3Error(alice.send(new PutBucketOwnershipControlsCommand(enforce)))).name, 'InvalidBucketAclWithObjectOwnership');
    await alice.send(new PutBucketOwnershipControlsCommand({ Bucket: 'preferred', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
    await bob.send(new PutObjectCommand({ Bucket: 'preferred', Key: 'handed.txt', Body: 'h', ACL: 'bucket-owner-full-control' }));
    await bob.send(new PutObjectCommand({ Bucket: 'preferred', Key: 'kept.txt', Body: 'k' }));
    assert.equal((await alice.send(new GetObjectAclCommand({ Bucket: 'preferred', Key: 'handed.txt' }))).Owner!.ID, aliceId);
    assert.notEqual((await bob.send(new GetObjectAclCommand({ Bucket: 'preferred', Key: 'kept.txt' }))).Owner!.ID, aliceId);
  });
});

describe('seeded policies', () => {
  it('starts a seeded bucket with its policy in force', async () => {
    await alice.send(new PutObjectCommand({ Bucket: 'seeded-public', Key: 'logo.svg', Body: '<svg/>' }));
    assert.equal((await anonymous('GET', '/seeded-public/logo.svg')).status, 200);
    const policy = await alice.send(new GetBucketPolicyCommand({ Bucket: 'seeded-public' }));
    assert.deepEqual(JSON.parse(policy.Policy!), publicRead('seeded-public'));
  });

  it('refuses to start with a malformed seeded policy, naming the bucket', async () => {
    await assert.rejects(
      startTestServer('policy-bad', { buckets: [{ name: 'bad-policy', policy: publicRead('other-bucket') }] }),
      /seeded bucket 'bad-policy': policy: Policy has invalid resource/,
    );
  });
});
