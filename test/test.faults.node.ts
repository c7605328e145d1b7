// Fault injection: rules set at runtime (setFaults/clearFaults/getFaults) and in the config make
// matching requests fail with an S3 error, wait, crawl or lose their connection; the AWS SDK v3's
// retries and lib-storage's multipart upload recover from them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Error, startTestServer, uniqueBucket } from './helpers.js';
import type { ITestServer } from './helpers.js';

/** A client like the server's, with its own retry budget. */
function clientWith(server: ITestServer, maxAttempts: number): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
    maxAttempts,
  });
}

describe('fault injection', () => {
  let server: ITestServer;
  let once: S3Client;
  const bucket = uniqueBucket('faults');

  before(async () => {
    server = await startTestServer('faults');
    once = clientWith(server, 1);
    await server.client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    once.destroy();
    await server.stop();
  });

  it('SlowDown for the next two PUTs: the SDK retries and succeeds on the third attempt', async () => {
    await server.smarts3.setFaults([
      { name: 'slow', operations: ['PutObject'], bucket, error: { code: 'SlowDown' }, count: 2 },
    ]);
    const since = (await server.smarts3.getRequests()).at(-1)?.seq ?? 0;
    const result = await server.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'retried', Body: 'made it' }));
    assert.equal(result.$metadata.attempts, 3);
    const puts = (await server.smarts3.getRequests({ since })).filter((r) => r.operation === 'PutObject');
    assert.deepEqual(
      puts.map((r) => [r.status, r.errorCode, r.fault]),
      [
        [503, 'SlowDown', 'slow'],
        [503, 'SlowDown', 'slow'],
        [200, null, null],
      ],
    );
    const [rule] = await server.smarts3.getFaults();
    assert.equal(rule.name, 'slow');
    assert.equal(rule.hits, 2);
    assert.equal(rule.remaining, 0);
    const body = await (await server.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'retried' }))).Body!.transformToString();
    assert.equal(body, 'made it');
  });

  it('without retries the injected error reaches the caller with its code and status', async () => {
    await server.smarts3.setFaults([{ operations: ['PutObject'], error: { code: 'ServiceUnavailable' } }]);
    const error = await s3Error(once.send(new PutObjectCommand({ Bucket: bucket, Key: 'refused', Body: 'x' })));
    assert.equal(error.name, 'ServiceUnavailable');
    assert.equal(error.$metadata.httpStatusCode, 503);
    await server.smarts3.clearFaults();
    assert.deepEqual(await server.smarts3.getFaults(), []);
    await once.send(new PutObjectCommand({ Bucket: bucket, Key: 'refused', Body: 'x' }));
  });

  it('any code with a chosen status and message; HEAD gets the status without a body', async () => {
    await server.smarts3.setFaults([
      { operations: ['GetObject', 'HeadObject'], keyPrefix: 'tea/', error: { code: 'ImATeapot', status: 418, message: 'short and stout' } },
    ]);
    const url = `${server.endpoint}/${bucket}/tea/pot`;
    const get = await fetch(url);
    assert.equal(get.status, 418);
    const xml = await get.text();
    assert.match(xml, /<Code>ImATeapot<\/Code>/);
    assert.match(xml, /<Message>short and stout<\/Message>/);
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 418);
    assert.equal(await head.text(), '');
    await server.smarts3.clearFaults();
  });

  it('a rule hits only its bucket and key prefix', async () => {
    const other = uniqueBucket('faults-other');
    await server.client.send(new CreateBucketCommand({ Bucket: other }));
    await server.smarts3.setFaults([{ bucket, keyPrefix: 'flaky/', error: { code: 'InternalError' } }]);
    await once.send(new PutObjectCommand({ Bucket: bucket, Key: 'steady/a', Body: 'x' }));
    await once.send(new PutObjectCommand({ Bucket: other, Key: 'flaky/a', Body: 'x' }));
    const error = await s3Error(once.send(new PutObjectCommand({ Bucket: bucket, Key: 'flaky/a', Body: 'x' })));
    assert.equal(error.name, 'InternalError');
    assert.equal(error.$metadata.httpStatusCode, 500);
    await server.smarts3.clearFaults();
  });

  it('probability 0 never hits; the next rule in order then applies', async () => {
    await server.smarts3.setFaults([
      { name: 'never', operations: ['HeadObject'], probability: 0, error: { code: 'InternalError' } },
      { name: 'always', operations: ['HeadObject'], probability: 1, error: { code: 'SlowDown' } },
    ]);
    for (let i = 0; i < 20; i++) {
      const error = await s3Error(once.send(new HeadObjectCommand({ Bucket: bucket, Key: 'retried' })));
      assert.equal(error.$metadata.httpStatusCode, 503);
    }
    const rules = await server.smarts3.getFaults();
    assert.deepEqual(rules.map((r) => [r.name, r.hits]), [['never', 0], ['always', 20]]);
    await server.smarts3.clearFaults();
  });

  it('latency delays the answer', async () => {
    await server.smarts3.setFaults([{ operations: ['GetObject'], latencyMs: 400 }]);
    const started = performance.now();
    const body = await (await once.send(new GetObjectCommand({ Bucket: bucket, Key: 'retried' }))).Body!.transformToString();
    assert.ok(performance.now() - started >= 390, 'the answer came before the added latency');
    assert.equal(body, 'made it');
    await server.smarts3.clearFaults();
  });

  it('a bandwidth cap slows uploads and downloads, and the bytes arrive whole', async () => {
    const data = crypto.randomBytes(40 * 1024);
    await server.smarts3.setFaults([{ operations: ['PutObject', 'GetObject'], keyPrefix: 'slowly', bandwidthBytesPerSecond: 40 * 1024 }]);
    let started = performance.now();
    await once.send(new PutObjectCommand({ Bucket: bucket, Key: 'slowly', Body: data }));
    assert.ok(performance.now() - started >= 800, 'the upload went faster than the cap');
    started = performance.now();
    const got = await (await once.send(new GetObjectCommand({ Bucket: bucket, Key: 'slowly' }))).Body!.transformToByteArray();
    assert.ok(performance.now() - started >= 800, 'the download went faster than the cap');
    assert.ok(Buffer.from(got).equals(data));
    await server.smarts3.clearFaults();
  });

  it('lib-storage multipart upload survives a part whose connection is reset mid-body', async () => {
    const data = crypto.randomBytes(11 * 1024 * 1024);
    await server.smarts3.setFaults([
      { name: 'cut', operations: ['UploadPart'], bucket, reset: { afterBytes: 64 * 1024 }, count: 1 },
    ]);
    const since = (await server.smarts3.getRequests()).at(-1)?.seq ?? 0;
    const upload = new Upload({
      client: server.client,
      params: { Bucket: bucket, Key: 'multi', Body: data },
      partSize: 5 * 1024 * 1024,
      queueSize: 1,
    });
    await upload.done();
    const parts = (await server.smarts3.getRequests({ since })).filter((r) => r.operation === 'UploadPart');
    assert.deepEqual(parts.map((r) => [r.status, r.fault]), [
      [0, 'cut'],
      [200, null],
      [200, null],
      [200, null],
    ]);
    const got = await (await server.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'multi' }))).Body!.transformToByteArray();
    assert.ok(Buffer.from(got).equals(data));
    await server.smarts3.clearFaults();
  });

  it('a response reset cuts a download short; the next one is whole', async () => {
    const data = crypto.randomBytes(256 * 1024);
    await once.send(new PutObjectCommand({ Bucket: bucket, Key: 'cut-short', Body: data }));
    await server.smarts3.setFaults([
      { operations: ['GetObject'], reset: { afterBytes: 1000, body: 'response' }, count: 1 },
    ]);
    const url = `${server.endpoint}/${bucket}/cut-short`;
    await assert.rejects(async () => {
      const response = await fetch(url);
      await response.arrayBuffer();
    });
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.ok(whole.equals(data));
    await server.smarts3.clearFaults();
  });

  it('refuses rules that cannot mean what was meant, and keeps the rules in force', async () => {
    await server.smarts3.setFaults([{ name: 'kept', latencyMs: 1 }]);
    await assert.rejects(server.smarts3.setFaults([{ operations: ['PutObjekt'], latencyMs: 5 }]), /'PutObjekt' is not an S3 operation/);
    await assert.rejects(server.smarts3.setFaults([{ error: { code: 'NoSuchThing' } }]), /give error\.status/);
    await assert.rejects(server.smarts3.setFaults([{ probability: 2, latencyMs: 5 }]), /probability/);
    await assert.rejects(server.smarts3.setFaults([{ operations: ['GetObject'] }]), /give latencyMs/);
    await assert.rejects(server.smarts3.setFaults([{ latency: 5 } as any]), /unknown field `latency`/);
    assert.deepEqual((await server.smarts3.getFaults()).map((r) => r.name), ['kept']);
    await server.smarts3.clearFaults();
  });
});

describe('fault rules in the config', () => {
  let server: ITestServer;
  let once: S3Client;

  before(async () => {
    server = await startTestServer('faults-config', {
      faults: [{ name: 'first-list', operations: ['ListBuckets'], error: { code: 'InternalError' }, count: 1 }],
    });
    once = clientWith(server, 1);
  });
  after(async () => {
    once.destroy();
    await server.stop();
  });

  it('apply from the start, and reset() brings them back', async () => {
    const error = await s3Error(once.send(new ListBucketsCommand({})));
    assert.equal(error.name, 'InternalError');
    await once.send(new ListBucketsCommand({}));
    await server.smarts3.clearFaults();
    await server.smarts3.reset();
    const [rule] = await server.smarts3.getFaults();
    assert.equal(rule.name, 'first-list');
    assert.equal(rule.remaining, 1);
    await s3Error(once.send(new ListBucketsCommand({})));
  });

  it('a bad rule in the config stops the start with the reason', async () => {
    await assert.rejects(
      startTestServer('faults-bad', { faults: [{ name: 'oops', operations: ['Nope'], latencyMs: 1 }] }),
      /fault rule 'oops': 'Nope' is not an S3 operation/,
    );
  });
});
