// Authentication and integrity with `auth.enabled`: the AWS SDK v3 with right and wrong secrets,
// presigned URLs, hand-signed requests (clock skew, payload hash, signed chunks, SigV2) and
// minio-js, each checked for the S3 error it must get and for what was (not) stored.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import * as Minio from 'minio';
import { s3Error, startTestServer, type ITestServer } from './helpers.js';

const USER = { accessKeyId: 'AKIDSMARTS3TEST', secretAccessKey: 'secret-one/with+odd=chars' };
const OTHER = { accessKeyId: 'AKIDSECONDUSER', secretAccessKey: 'secret-two' };
const BUCKET = 'auth-bucket';

let server: ITestServer;
let s3: S3Client;
let port: number;

function client(credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint: server.endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
}

/** SHA-256 / HMAC-SHA256 for @smithy/signature-v4, from node:crypto. */
class NodeSha256 {
  private hash: crypto.Hash | crypto.Hmac;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret === undefined ? crypto.createHash('sha256') : crypto.createHmac('sha256', secret);
  }
  update(data: string | Uint8Array) {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function signer(credentials = USER) {
  return new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: NodeSha256 as any, uriEscapePath: false });
}

const sha256Hex = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex');

/** Signs a request by hand (as the SDK would) and sends it with fetch. */
async function sendSigned(
  method: string,
  path: string,
  options: {
    body?: string | Buffer;
    headers?: Record<string, string>;
    /** Added after signing, as someone holding the signed request could. */
    unsignedHeaders?: Record<string, string>;
    signingDate?: Date;
    credentials?: typeof USER;
    payloadHash?: string;
  } = {},
) {
  const body = options.body ?? '';
  const request = new HttpRequest({
    method,
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path,
    headers: {
      host: `127.0.0.1:${port}`,
      'x-amz-content-sha256': options.payloadHash ?? sha256Hex(body),
      ...options.headers,
    },
    body,
  });
  const signed = await signer(options.credentials).sign(request, { signingDate: options.signingDate });
  const response = await fetch(`${server.endpoint}${path}`, {
    method,
    headers: { ...(signed.headers as Record<string, string>), ...options.unsignedHeaders },
    body: method === 'GET' || method === 'HEAD' || body === undefined ? undefined : typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

async function objectText(key: string): Promise<string> {
  const get = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return get.Body!.transformToString();
}

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (error) {
    if ((error as S3ServiceException).name === 'NotFound') return false;
    throw error;
  }
}

before(async () => {
  server = await startTestServer('auth', { auth: { enabled: true, credentials: [USER, OTHER] } });
  port = Number(new URL(server.endpoint).port);
  s3 = client(USER);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => server?.stop());

/** SigV4's signing key for us-east-1/s3: HMAC("AWS4" + secret, day) chained over the scope. */
function sigV4Key(secret: string, day: string): Buffer {
  let key: Buffer | string = 'AWS4' + secret;
  for (const part of [day, 'us-east-1', 's3', 'aws4_request']) key = crypto.createHmac('sha256', key).update(part).digest();
  return key as Buffer;
}

describe('SigV4 through the AWS SDK', () => {
  it('accepts the right secret for every configured user, for plain, streamed and multipart uploads', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain', Body: 'signed body', ChecksumAlgorithm: 'SHA256' }));
    assert.equal(await objectText('plain'), 'signed body');
    const streamed = Readable.from([Buffer.from('streamed '), Buffer.from('and signed')]);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'streamed', Body: streamed, ContentLength: 19 }));
    assert.equal(await objectText('streamed'), 'streamed and signed');
    const data = crypto.randomBytes(11 * 1024 * 1024);
    await new Upload({ client: s3, params: { Bucket: BUCKET, Key: 'multipart', Body: data }, partSize: 5 * 1024 * 1024 }).done();
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'multipart' }))).ContentLength, data.length);
    // The second user signs acceptably too (and, the bucket being private, is told AccessDenied).
    const other = client(OTHER);
    const denied = await s3Error(other.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'plain' })));
    assert.equal(denied.name, 'AccessDenied');
    await other.send(new CreateBucketCommand({ Bucket: 'other-users-bucket' }));
    await other.send(new PutObjectCommand({ Bucket: 'other-users-bucket', Key: 'mine', Body: 'x' }));
    other.destroy();
    // Keys that need encoding sign correctly too.
    for (const key of ['a b+c%d ü.txt', 'x//y', 'dir/', "it's (1).txt", 'q?uery=&.txt']) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
      assert.equal(await objectText(key), key);
    }
  });

  it('rejects a wrong secret with SignatureDoesNotMatch and stores nothing', async () => {
    const wrong = client({ accessKeyId: USER.accessKeyId, secretAccessKey: 'not-the-secret' });
    const error = await s3Error(wrong.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'forged', Body: 'x' })));
    assert.equal(error.name, 'SignatureDoesNotMatch');
    assert.equal(error.$metadata.httpStatusCode, 403);
    wrong.destroy();
    assert.equal(await exists('forged'), false);
    // The error body carries what users debug with.
    const forged = await sendSigned('GET', `/${BUCKET}/plain`, { credentials: { ...USER, secretAccessKey: 'nope' } });
    assert.equal(forged.status, 403);
    assert.match(forged.text, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.match(forged.text, /<StringToSign>AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}<\/StringToSign>/);
    assert.match(forged.text, /<CanonicalRequest>GET\n\/auth-bucket\/plain\n/);
    assert.match(forged.text, /<AWSAccessKeyId>AKIDSMARTS3TEST<\/AWSAccessKeyId>/);
  });

  it('rejects an unknown key, a missing signature and a malformed header', async () => {
    const unknown = client({ accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' });
    const error = await s3Error(unknown.send(new ListObjectsV2Command({ Bucket: BUCKET })));
    assert.equal(error.name, 'InvalidAccessKeyId');
    assert.equal(error.$metadata.httpStatusCode, 403);
    unknown.destroy();

    const anonymous = await fetch(`${server.endpoint}/${BUCKET}/plain`);
    assert.equal(anonymous.status, 403);
    assert.match(await anonymous.text(), /<Code>AccessDenied<\/Code>/);
    const anonymousPut = await fetch(`${server.endpoint}/${BUCKET}/anon`, { method: 'PUT', body: 'x' });
    assert.equal(anonymousPut.status, 403);
    assert.equal(await exists('anon'), false);

    const malformed = await fetch(`${server.endpoint}/${BUCKET}/plain`, {
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDSMARTS3TEST/garbage, SignedHeaders=host, Signature=00' },
    });
    assert.equal(malformed.status, 400);
    assert.match(await malformed.text(), /<Code>AuthorizationHeaderMalformed<\/Code>/);
  });

  it('rejects requests signed more than 15 minutes off with RequestTimeTooSkewed', async () => {
    const skewed = await sendSigned('GET', `/${BUCKET}/plain`, { signingDate: new Date(Date.now() - 20 * 60_000) });
    assert.equal(skewed.status, 403);
    assert.match(skewed.text, /<Code>RequestTimeTooSkewed<\/Code>/);
    const fine = await sendSigned('GET', `/${BUCKET}/plain`, { signingDate: new Date(Date.now() - 5 * 60_000) });
    assert.equal(fine.status, 200);
    assert.equal(fine.text, 'signed body');
  });

  it('checks x-amz-content-sha256 against the body (XAmzContentSHA256Mismatch)', async () => {
    const lying = await sendSigned('PUT', `/${BUCKET}/hash-check`, { body: 'actual body', payloadHash: sha256Hex('another body') });
    assert.equal(lying.status, 400);
    assert.match(lying.text, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    assert.equal(await exists('hash-check'), false);
    const honest = await sendSigned('PUT', `/${BUCKET}/hash-check`, { body: 'actual body' });
    assert.equal(honest.status, 200);
    const unsigned = await sendSigned('PUT', `/${BUCKET}/unsigned-payload`, { body: 'whatever', payloadHash: 'UNSIGNED-PAYLOAD' });
    assert.equal(unsigned.status, 200);
  });

  it('verifies Content-MD5 and checksums with auth on', async () => {
    const badMd5 = await sendSigned('PUT', `/${BUCKET}/md5`, {
      body: 'content',
      headers: { 'content-md5': crypto.createHash('md5').update('other').digest('base64') },
    });
    assert.equal(badMd5.status, 400);
    assert.match(badMd5.text, /<Code>BadDigest<\/Code>/);
    for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
      const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `sum-${algorithm}`, Body: 'summed', ChecksumAlgorithm: algorithm }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `sum-${algorithm}`, ChecksumMode: 'ENABLED' }));
      const sent = put[`Checksum${algorithm}`];
      assert.ok(typeof sent === 'string' && sent.length > 0, `PUT answered a ${algorithm} checksum`);
      assert.equal(head[`Checksum${algorithm}`], sent, `HEAD reports the stored ${algorithm} checksum`);
      if (algorithm === 'SHA1' || algorithm === 'SHA256') {
        assert.equal(sent, crypto.createHash(algorithm.toLowerCase()).update('summed').digest('base64'));
      }
    }
    const wrong = await s3Error(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sum-wrong', Body: 'x', ChecksumCRC32C: 'AAAAAA==' })));
    assert.equal(wrong.name, 'BadDigest');
    assert.equal(await exists('sum-wrong'), false);
  });
});

describe('presigned URLs (SigV4 query)', () => {
  it('serves valid presigned GET and PUT URLs', async () => {
    // Presigned with the SDK's defaults, the URL carries x-amz-checksum-crc32 of an empty body;
    // S3 rejects any other body with BadDigest, and so does this server, saying why.
    const defaultUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt' }), { expiresIn: 300 });
    assert.match(defaultUrl, /x-amz-checksum-crc32=AAAAAA%3D%3D/);
    const refused = await fetch(defaultUrl, { method: 'PUT', body: 'uploaded by url' });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /<Code>BadDigest<\/Code><Message>The CRC32 you specified did not match the calculated checksum. It came from the presigned URL/);
    assert.equal(await exists('presigned.txt'), false);

    const presigner = new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: USER,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const putUrl = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt' }), { expiresIn: 300 });
    presigner.destroy();
    const put = await fetch(putUrl, { method: 'PUT', body: 'uploaded by url' });
    assert.equal(put.status, 200, await put.clone().text());
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt' }), { expiresIn: 300 });
    const get = await fetch(getUrl);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'uploaded by url');
  });

  it('applies the x-amz-* headers a presigned URL carries in its query: metadata, ACL, payload hash', async () => {
    const presigner = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', credentials: USER, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const url = await getSignedUrl(
      presigner,
      new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned-meta.txt', Metadata: { colour: 'blue' }, ACL: 'public-read' }),
      { expiresIn: 300 },
    );
    presigner.destroy();
    assert.match(url, /x-amz-meta-colour=blue/);
    assert.match(url, /x-amz-acl=public-read/);
    const put = await fetch(url, { method: 'PUT', body: 'described by the URL' });
    assert.equal(put.status, 200, await put.clone().text());
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'presigned-meta.txt' }));
    assert.deepEqual(head.Metadata, { colour: 'blue' });
    assert.equal((await fetch(`${server.endpoint}/${BUCKET}/presigned-meta.txt`)).status, 200, 'the ACL from the URL made it public');

    // A URL signed for one body's SHA-256 takes that body only.
    const signedBody = 'the body that was signed';
    const presigned = await signer().presign(
      new HttpRequest({
        method: 'PUT',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port,
        path: `/${BUCKET}/presigned-hash.txt`,
        headers: { host: `127.0.0.1:${port}`, 'x-amz-content-sha256': sha256Hex(signedBody) },
      }),
      { expiresIn: 300 },
    );
    const query = presigned.query as Record<string, string>;
    assert.equal(query['x-amz-content-sha256'], sha256Hex(signedBody));
    const hashUrl = `${server.endpoint}/${BUCKET}/presigned-hash.txt?` + Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const other = await fetch(hashUrl, { method: 'PUT', body: 'some other body' });
    assert.equal(other.status, 400);
    assert.match(await other.text(), /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    assert.equal(await exists('presigned-hash.txt'), false);
    const same = await fetch(hashUrl, { method: 'PUT', body: signedBody });
    assert.equal(same.status, 200, await same.clone().text());
    assert.equal(await objectText('presigned-hash.txt'), signedBody);
  });

  it('refuses expired and tampered URLs', async () => {
    const expiredUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 10 * 60_000),
    });
    const expired = await fetch(expiredUrl);
    assert.equal(expired.status, 403);
    const body = await expired.text();
    assert.match(body, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);

    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt' }), { expiresIn: 300 }));
    url.pathname = `/${BUCKET}/other-key`;
    const tampered = await fetch(url);
    assert.equal(tampered.status, 403);
    assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

    const tooLong = new URL(url);
    tooLong.searchParams.set('X-Amz-Expires', String(8 * 24 * 3600));
    const week = await fetch(tooLong);
    assert.equal(week.status, 400);
    assert.match(await week.text(), /<Code>AuthorizationQueryParametersError<\/Code>/);
  });
});

describe('signed streaming payloads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
  /** Builds and sends an aws-chunked body whose chunks are signed in a chain, as S3 specifies. */
  /**
   * Builds and sends an aws-chunked body whose chunks are signed in a chain, as S3 specifies.
   * Header-signed, or `presigned`: the signer moves the x-amz-* headers into the URL's signed
   * query, and the chain starts at its X-Amz-Signature.
   */
  async function sendChunked(key: string, chunks: Buffer[], options: { corrupt?: (body: Buffer) => Buffer; presigned?: boolean } = {}) {
    const signingDate = new Date();
    const amzDate = signingDate.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const scope = `${day}/us-east-1/s3/aws4_request`;
    const decodedLength = chunks.reduce((n, c) => n + c.length, 0);
    const frames = [...chunks, Buffer.alloc(0)];
    // Signature lines have fixed length, so the framed length is known before signing.
    const contentLength = frames.reduce((n, c) => n + c.length.toString(16).length + 17 + 64 + 2 + c.length + 2, 0);
    const request = new HttpRequest({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: `/${BUCKET}/${key}`,
      headers: {
        host: `127.0.0.1:${port}`,
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(decodedLength),
        'content-length': String(contentLength),
      },
    });
    let url = `${server.endpoint}/${BUCKET}/${key}`;
    let headers: Record<string, string>;
    let seed: string;
    if (options.presigned) {
      const presigned = await signer().presign(request, { signingDate, expiresIn: 300 });
      const query = presigned.query as Record<string, string>;
      assert.equal(query['x-amz-content-sha256'], 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
      url += '?' + Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
      headers = presigned.headers as Record<string, string>;
      seed = query['X-Amz-Signature'];
    } else {
      request.headers['x-amz-date'] = amzDate;
      const signed = await signer().sign(request, { signingDate, signableHeaders: new Set(['content-encoding', 'x-amz-decoded-content-length', 'content-length']) });
      headers = signed.headers as Record<string, string>;
      seed = /Signature=([0-9a-f]{64})/.exec(headers.authorization)![1];
    }
    const key4 = sigV4Key(USER.secretAccessKey, day);
    let previous = seed;
    const parts: Buffer[] = [];
    for (const frame of frames) {
      const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, sha256Hex(''), sha256Hex(frame)].join('\n');
      const signature = crypto.createHmac('sha256', key4).update(toSign).digest('hex');
      parts.push(Buffer.from(`${frame.length.toString(16)};chunk-signature=${signature}\r\n`), frame, Buffer.from('\r\n'));
      previous = signature;
    }
    let body: Buffer = Buffer.concat(parts);
    assert.equal(body.length, contentLength);
    if (options.corrupt) body = options.corrupt(body);
    const response = await fetch(url, { method: 'PUT', headers, body: new Uint8Array(body) });
    return { status: response.status, text: await response.text() };
  }

  /** Flips a payload byte of the first chunk. */
  const flipFirstChunkByte = (body: Buffer) => {
    const copy = Buffer.from(body);
    copy[200] ^= 0xff;
    return copy;
  };

  it('accepts a correctly signed chain and rejects a bad chunk without storing anything', async () => {
    const chunks = [crypto.randomBytes(64 * 1024), crypto.randomBytes(1000)];
    const ok = await sendChunked('chunked-ok', chunks);
    assert.equal(ok.status, 200, ok.text);
    const get = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chunked-ok' }));
    assert.deepEqual(Buffer.from(await get.Body!.transformToByteArray()), Buffer.concat(chunks));

    const bad = await sendChunked('chunked-bad', chunks, { corrupt: flipFirstChunkByte });
    assert.equal(bad.status, 403);
    assert.match(bad.text, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.equal(await exists('chunked-bad'), false);
  });

  it('verifies the chain of a presigned URL signed for a streaming payload, seeded by the URL', async () => {
    const chunks = [crypto.randomBytes(20 * 1024), crypto.randomBytes(333)];
    const ok = await sendChunked('presigned-chunked-ok', chunks, { presigned: true });
    assert.equal(ok.status, 200, ok.text);
    const get = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'presigned-chunked-ok' }));
    assert.deepEqual(Buffer.from(await get.Body!.transformToByteArray()), Buffer.concat(chunks), 'the framing was decoded, not stored');

    const bad = await sendChunked('presigned-chunked-bad', chunks, { presigned: true, corrupt: flipFirstChunkByte });
    assert.equal(bad.status, 403, bad.text);
    assert.match(bad.text, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.equal(await exists('presigned-chunked-bad'), false);
  });
});

describe('unsigned x-amz-* headers', () => {
  const smuggled = { 'x-amz-copy-source': `/${BUCKET}/secret.txt`, 'x-amz-acl': 'public-read' };

  async function anonymousGet(key: string) {
    return (await fetch(`${server.endpoint}/${BUCKET}/${key}`)).status;
  }

  it('refuses them on a presigned URL: no copy of a private object, no public ACL', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'secret.txt', Body: 'private data' }));
    const presigner = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', credentials: USER, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/upload.txt' }), { expiresIn: 300 });
    presigner.destroy();
    const attack = await fetch(url, { method: 'PUT', headers: smuggled });
    const text = await attack.text();
    assert.equal(attack.status, 403, text);
    assert.match(text, /<Code>AccessDenied<\/Code><Message>There were headers present in the request which were not signed<\/Message>/);
    assert.match(text, /<HeadersNotSigned>x-amz-acl, x-amz-copy-source<\/HeadersNotSigned>/);
    assert.equal(await exists('inbox/upload.txt'), false, 'nothing was stored');
    assert.equal(await anonymousGet('inbox/upload.txt'), 403);
    // The URL itself still works as signed.
    const honest = await fetch(url, { method: 'PUT', body: 'an honest upload' });
    assert.equal(honest.status, 200, await honest.clone().text());
    assert.equal(await anonymousGet('inbox/upload.txt'), 403, 'the object stayed private');
    assert.equal(await objectText('inbox/upload.txt'), 'an honest upload');
  });

  it('refuses them in header-signed (SigV4) requests', async () => {
    const attack = await sendSigned('PUT', `/${BUCKET}/inbox/header.txt`, { body: '', unsignedHeaders: smuggled });
    assert.equal(attack.status, 403, attack.text);
    assert.match(attack.text, /<HeadersNotSigned>x-amz-acl, x-amz-copy-source<\/HeadersNotSigned>/);
    assert.equal(await exists('inbox/header.txt'), false);
    const signedAcl = await sendSigned('PUT', `/${BUCKET}/inbox/header.txt`, { body: 'x', headers: { 'x-amz-acl': 'public-read' } });
    assert.equal(signedAcl.status, 200, signedAcl.text);
    assert.equal(await anonymousGet('inbox/header.txt'), 200, 'a signed x-amz-acl is honoured');
  });

  it('fails the signature of a SigV2 request (its string to sign covers every x-amz-* header)', async () => {
    const date = new Date().toUTCString();
    const signature = crypto.createHmac('sha1', USER.secretAccessKey).update(`PUT\n\ntext/plain\n${date}\n/${BUCKET}/inbox/v2.txt`).digest('base64');
    const attack = await fetch(`${server.endpoint}/${BUCKET}/inbox/v2.txt`, {
      method: 'PUT',
      headers: { date, 'content-type': 'text/plain', 'x-amz-acl': 'public-read', authorization: `AWS ${USER.accessKeyId}:${signature}` },
      body: 'x',
    });
    assert.equal(attack.status, 403);
    assert.match(await attack.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.equal(await exists('inbox/v2.txt'), false);
  });
});

describe('SigV2', () => {
  function v2Signature(stringToSign: string, secret = USER.secretAccessKey) {
    return crypto.createHmac('sha1', secret).update(stringToSign).digest('base64');
  }

  it('reads RFC 2822 dates and x-amz-date as S3 does, and judges their skew', async () => {
    // AWS's SigV2 examples write dates with a numeric zone.
    const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');
    const put = (headers: Record<string, string>, stringToSign: string) =>
      fetch(`${server.endpoint}/${BUCKET}/v2-dates.txt`, {
        method: 'PUT',
        headers: { ...headers, 'content-type': 'text/plain', authorization: `AWS ${USER.accessKeyId}:${v2Signature(stringToSign)}` },
        body: 'dated',
      });
    const date = rfc2822(new Date());
    const numeric = await put({ date }, `PUT\n\ntext/plain\n${date}\n/${BUCKET}/v2-dates.txt`);
    assert.equal(numeric.status, 200, await numeric.clone().text());
    // x-amz-date wins over Date (the Date line is then empty) and may come alone.
    const amz = rfc2822(new Date());
    const both = await put({ date: 'Thu, 01 Jan 1970 00:00:00 GMT', 'x-amz-date': amz }, `PUT\n\ntext/plain\n\nx-amz-date:${amz}\n/${BUCKET}/v2-dates.txt`);
    assert.equal(both.status, 200, await both.clone().text());
    const alone = await put({ 'x-amz-date': amz }, `PUT\n\ntext/plain\n\nx-amz-date:${amz}\n/${BUCKET}/v2-dates.txt`);
    assert.equal(alone.status, 200, await alone.clone().text());
    const old = rfc2822(new Date(Date.now() - 3600_000));
    const skewed = await put({ 'x-amz-date': old }, `PUT\n\ntext/plain\n\nx-amz-date:${old}\n/${BUCKET}/v2-dates.txt`);
    assert.equal(skewed.status, 403);
    assert.match(await skewed.text(), /<Code>RequestTimeTooSkewed<\/Code>/);
  });

  it('accepts header-signed requests and rejects bad ones', async () => {
    const date = new Date().toUTCString();
    const put = await fetch(`${server.endpoint}/${BUCKET}/v2.txt`, {
      method: 'PUT',
      headers: {
        date,
        'content-type': 'text/plain',
        'x-amz-meta-signed': 'v2',
        authorization: `AWS ${USER.accessKeyId}:${v2Signature(`PUT\n\ntext/plain\n${date}\nx-amz-meta-signed:v2\n/${BUCKET}/v2.txt`)}`,
      },
      body: 'version two',
    });
    assert.equal(put.status, 200, await put.clone().text());
    const get = await fetch(`${server.endpoint}/${BUCKET}/v2.txt`, {
      headers: { date, authorization: `AWS ${USER.accessKeyId}:${v2Signature(`GET\n\n\n${date}\n/${BUCKET}/v2.txt`)}` },
    });
    assert.equal(await get.text(), 'version two');
    const bad = await fetch(`${server.endpoint}/${BUCKET}/v2.txt`, {
      headers: { date, authorization: `AWS ${USER.accessKeyId}:${v2Signature('something else')}` },
    });
    assert.equal(bad.status, 403);
    const text = await bad.text();
    assert.match(text, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.ok(text.includes(`<StringToSign>GET\n\n\n${date}\n/${BUCKET}/v2.txt</StringToSign>`));
    const old = new Date(Date.now() - 30 * 60_000).toUTCString();
    const skewed = await fetch(`${server.endpoint}/${BUCKET}/v2.txt`, {
      headers: { date: old, authorization: `AWS ${USER.accessKeyId}:${v2Signature(`GET\n\n\n${old}\n/${BUCKET}/v2.txt`)}` },
    });
    assert.equal(skewed.status, 403);
    assert.match(await skewed.text(), /<Code>RequestTimeTooSkewed<\/Code>/);
  });

  it('accepts query-string (presigned) v2 URLs until they expire', async () => {
    const url = (expires: number) =>
      `${server.endpoint}/${BUCKET}/v2.txt?AWSAccessKeyId=${USER.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(
        v2Signature(`GET\n\n\n${expires}\n/${BUCKET}/v2.txt`),
      )}`;
    const valid = await fetch(url(Math.floor(Date.now() / 1000) + 300));
    assert.equal(valid.status, 200);
    assert.equal(await valid.text(), 'version two');
    const expired = await fetch(url(Math.floor(Date.now() / 1000) - 10));
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /Request has expired/);
  });

  it('ignores x-amz-* query parameters added to a v2 URL: its signature does not cover them', async () => {
    const expires = Math.floor(Date.now() / 1000) + 300;
    const signature = encodeURIComponent(v2Signature(`PUT\n\n\n${expires}\n/${BUCKET}/v2-query.txt`));
    const url = `${server.endpoint}/${BUCKET}/v2-query.txt?AWSAccessKeyId=${USER.accessKeyId}&Expires=${expires}&Signature=${signature}`;
    // Added by whoever holds the URL: a wrong checksum, metadata, a public ACL.
    const added = '&x-amz-checksum-crc32=AAAAAA%3D%3D&x-amz-meta-injected=yes&x-amz-acl=public-read';
    const put = await fetch(url + added, { method: 'PUT', body: new TextEncoder().encode('v2 query upload') });
    assert.equal(put.status, 200, await put.clone().text());
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'v2-query.txt', ChecksumMode: 'ENABLED' }));
    assert.deepEqual(head.Metadata, {});
    assert.equal(head.ChecksumCRC32, undefined);
    assert.equal((await fetch(`${server.endpoint}/${BUCKET}/v2-query.txt`)).status, 403, 'still private');
    assert.equal(await objectText('v2-query.txt'), 'v2 query upload');
  });
});

describe('minio-js with auth on', () => {
  it('signs its own requests acceptably', async () => {
    const minio = new Minio.Client({
      endPoint: '127.0.0.1',
      port,
      useSSL: false,
      accessKey: OTHER.accessKeyId,
      secretKey: OTHER.secretAccessKey,
      region: 'us-east-1',
      pathStyle: true,
    });
    await minio.makeBucket('minio-signed', 'us-east-1');
    await minio.putObject('minio-signed', 'minio/signed.txt', Buffer.from('minio signed'));
    const stat = await minio.statObject('minio-signed', 'minio/signed.txt');
    assert.equal(stat.size, 12);
    const wrong = new Minio.Client({ endPoint: '127.0.0.1', port, useSSL: false, accessKey: OTHER.accessKeyId, secretKey: 'wrong', pathStyle: true, region: 'us-east-1' });
    await assert.rejects(wrong.getObject('minio-signed', 'minio/signed.txt'), (e: any) => e.code === 'SignatureDoesNotMatch');
  });
});

describe('POST Object (browser form uploads)', () => {
  function signingKey(day: string, secret = USER.secretAccessKey): Buffer {
    return sigV4Key(secret, day);
  }

  /** A SigV4-signed form: the policy's conditions plus the fields that must match them. */
  function v4Form(conditions: unknown[], fields: Record<string, string>, options: { expiresInMs?: number; secret?: string } = {}) {
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const credential = `${USER.accessKeyId}/${day}/us-east-1/s3/aws4_request`;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + (options.expiresInMs ?? 300_000)).toISOString(),
        conditions: [
          { bucket: BUCKET },
          { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
          { 'x-amz-credential': credential },
          { 'x-amz-date': amzDate },
          ...conditions,
        ],
      }),
    ).toString('base64');
    const signature = crypto.createHmac('sha256', signingKey(day, options.secret)).update(policy).digest('hex');
    return { ...fields, 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': amzDate, policy, 'x-amz-signature': signature };
  }

  async function post(fields: Record<string, string>, file: Buffer, filename = 'photo.png', bucket = BUCKET) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', new Blob([new Uint8Array(file)]), filename);
    const response = await fetch(`${server.endpoint}/${bucket}`, { method: 'POST', body: form, redirect: 'manual' });
    return { status: response.status, text: await response.text(), headers: response.headers };
  }

  it('stores a SigV4-signed upload with ${filename}, metadata and a 201 PostResponse', async () => {
    const fields = v4Form(
      [['starts-with', '$key', 'uploads/'], ['starts-with', '$Content-Type', 'image/'], { 'x-amz-meta-origin': 'browser' }, { success_action_status: '201' }, ['content-length-range', 1, 1024]],
      { key: 'uploads/${filename}', 'Content-Type': 'image/png', 'x-amz-meta-origin': 'browser', success_action_status: '201' },
    );
    const result = await post(fields, Buffer.from('png bytes'));
    assert.equal(result.status, 201, result.text);
    assert.match(result.text, /<PostResponse><Location>[^<]+\/auth-bucket\/uploads\/photo.png<\/Location><Bucket>auth-bucket<\/Bucket><Key>uploads\/photo.png<\/Key><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag><\/PostResponse>/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'uploads/photo.png' }));
    assert.equal(head.ContentType, 'image/png');
    assert.deepEqual(head.Metadata, { origin: 'browser' });
    assert.equal(await objectText('uploads/photo.png'), 'png bytes');
  });

  it('verifies and stores the checksum and Content-MD5 form fields', async () => {
    const file = Buffer.from('checksummed form upload');
    const sha256 = crypto.createHash('sha256').update(file).digest('base64');
    const md5 = crypto.createHash('md5').update(file).digest('base64');
    const form = (key: string, checksum: string, contentMd5 = md5) =>
      v4Form([{ key }, { 'x-amz-checksum-algorithm': 'SHA256' }, { 'x-amz-checksum-sha256': checksum }, { 'Content-MD5': contentMd5 }], {
        key,
        'x-amz-checksum-algorithm': 'SHA256',
        'x-amz-checksum-sha256': checksum,
        'Content-MD5': contentMd5,
      });
    const stored = await post(form('form-checksum.txt', sha256), file);
    assert.equal(stored.status, 204, stored.text);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'form-checksum.txt', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, sha256);
    assert.equal(head.ChecksumType, 'FULL_OBJECT');

    const otherSha = crypto.createHash('sha256').update('another file').digest('base64');
    const wrongChecksum = await post(form('form-bad-checksum.txt', otherSha), file);
    assert.equal(wrongChecksum.status, 400, wrongChecksum.text);
    assert.match(wrongChecksum.text, /<Code>BadDigest<\/Code>/);
    const otherMd5 = crypto.createHash('md5').update('another file').digest('base64');
    const wrongMd5 = await post(form('form-bad-md5.txt', sha256, otherMd5), file);
    assert.equal(wrongMd5.status, 400, wrongMd5.text);
    assert.match(wrongMd5.text, /<Code>BadDigest<\/Code>/);
    const malformed = await post(form('form-malformed.txt', 'not base64!'), file);
    assert.equal(malformed.status, 400, malformed.text);
    assert.match(malformed.text, /<Code>InvalidRequest<\/Code>/);
    for (const key of ['form-bad-checksum.txt', 'form-bad-md5.txt', 'form-malformed.txt']) assert.equal(await exists(key), false, key);
  });

  it('stores the tags of the tagging form field, signed or anonymous into a public-read-write bucket', async () => {
    const tagging = '<Tagging><TagSet><Tag><Key>source</Key><Value>form</Value></Tag><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>';
    const signed = await post(v4Form([{ key: 'form-tagged.txt' }, { tagging }], { key: 'form-tagged.txt', tagging }), Buffer.from('tagged'));
    assert.equal(signed.status, 204, signed.text);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'form-tagged.txt' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'a', Value: '1' }, { Key: 'source', Value: 'form' }]);

    const open = 'auth-open-bucket';
    await s3.send(new CreateBucketCommand({ Bucket: open, ACL: 'public-read-write' }));
    // The anonymous uploader owns the object; public-read lets anyone read its tags back.
    const anonymous = await post({ key: 'anonymous.txt', tagging, acl: 'public-read' }, Buffer.from('anonymous'), 'a.txt', open);
    assert.equal(anonymous.status, 204, anonymous.text);
    const anonymousTags = await fetch(`${server.endpoint}/${open}/anonymous.txt?tagging`);
    assert.equal(anonymousTags.status, 200);
    assert.match(await anonymousTags.text(), /<TagSet><Tag><Key>a<\/Key><Value>1<\/Value><\/Tag><Tag><Key>source<\/Key><Value>form<\/Value><\/Tag><\/TagSet>/);
    const badTags = await post({ key: 'bad-tags.txt', tagging: '<Tagging><TagSet><Tag><Value>no key</Value></Tag></TagSet></Tagging>' }, Buffer.from('x'), 'b.txt', open);
    assert.equal(badTags.status, 400, badTags.text);
    assert.match(badTags.text, /<Code>MalformedXML<\/Code>/);
  });

  it('stores a SigV2-signed upload with its storage class and answers 204 by default', async () => {
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 60_000).toISOString(),
        conditions: [{ bucket: BUCKET }, ['starts-with', '$key', 'v2/'], ['starts-with', '$x-amz-storage-class', '']],
      }),
    ).toString('base64');
    const signature = crypto.createHmac('sha1', USER.secretAccessKey).update(policy).digest('base64');
    const fields = { key: 'v2/${filename}', AWSAccessKeyId: USER.accessKeyId, policy, signature, 'x-amz-storage-class': 'REDUCED_REDUNDANCY' };
    const result = await post(fields, Buffer.from('v2 form'), 'doc.txt');
    assert.equal(result.status, 204, result.text);
    assert.equal(await objectText('v2/doc.txt'), 'v2 form');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'v2/doc.txt' }))).StorageClass, 'REDUCED_REDUNDANCY');
    const badClass = await post({ ...fields, 'x-amz-storage-class': 'CHEAPEST' }, Buffer.from('x'), 'bad.txt');
    assert.equal(badClass.status, 400, badClass.text);
    assert.match(badClass.text, /<Code>InvalidStorageClass<\/Code>/);
  });

  it('redirects with success_action_redirect', async () => {
    const fields = v4Form([{ key: 'redirected.txt' }, ['starts-with', '$success_action_redirect', 'http://app.local/']], {
      key: 'redirected.txt',
      success_action_redirect: 'http://app.local/done',
    });
    const result = await post(fields, Buffer.from('x'));
    assert.equal(result.status, 303);
    const location = new URL(result.headers.get('location')!);
    assert.equal(location.origin + location.pathname, 'http://app.local/done');
    assert.equal(location.searchParams.get('bucket'), BUCKET);
    assert.equal(location.searchParams.get('key'), 'redirected.txt');
    assert.match(location.searchParams.get('etag')!, /^"[0-9a-f]{32}"$/);
  });

  it('refuses forms that break their policy or signature, storing nothing', async () => {
    const wrongKey = await post(v4Form([['starts-with', '$key', 'uploads/']], { key: 'elsewhere/x' }), Buffer.from('x'));
    assert.equal(wrongKey.status, 403);
    assert.match(wrongKey.text, /<Code>AccessDenied<\/Code><Message>Invalid according to Policy: Policy Condition failed/);
    const extra = await post(v4Form([{ key: 'extra' }], { key: 'extra', 'x-amz-meta-sneaky': '1' }), Buffer.from('x'));
    assert.match(extra.text, /Extra input fields: x-amz-meta-sneaky/);
    const tooBig = await post(v4Form([{ key: 'big' }, ['content-length-range', 0, 10]], { key: 'big' }), Buffer.alloc(11));
    assert.equal(tooBig.status, 400);
    assert.match(tooBig.text, /<Code>EntityTooLarge<\/Code>/);
    const expired = await post(v4Form([{ key: 'late' }], { key: 'late' }, { expiresInMs: -1000 }), Buffer.from('x'));
    assert.equal(expired.status, 403);
    assert.match(expired.text, /Policy expired/);
    const forged = await post(v4Form([{ key: 'forged' }], { key: 'forged' }, { secret: 'wrong' }), Buffer.from('x'));
    assert.equal(forged.status, 403);
    assert.match(forged.text, /<Code>SignatureDoesNotMatch<\/Code>/);
    const unsigned = await post({ key: 'unsigned' }, Buffer.from('x'));
    assert.equal(unsigned.status, 403);
    // A policy without its signature is a malformed form (400), not an anonymous one.
    const { 'x-amz-signature': _signature, ...v4Unsigned } = v4Form([{ key: 'no-signature' }], { key: 'no-signature' });
    const noV4Signature = await post(v4Unsigned, Buffer.from('x'));
    assert.equal(noV4Signature.status, 400, noV4Signature.text);
    assert.match(noV4Signature.text, /<Code>InvalidArgument<\/Code><Message>Bucket POST must contain a field named (&apos;|')X-Amz-Signature/);
    const v2Policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 60_000).toISOString(), conditions: [{ bucket: BUCKET }] })).toString('base64');
    const noV2Signature = await post({ key: 'no-signature', AWSAccessKeyId: USER.accessKeyId, policy: v2Policy }, Buffer.from('x'));
    assert.equal(noV2Signature.status, 400, noV2Signature.text);
    assert.match(noV2Signature.text, /must contain a field named (&apos;|')Signature/);
    const notIso = Buffer.from(JSON.stringify({ expiration: 'tomorrow', conditions: [{ bucket: BUCKET }] })).toString('base64');
    const badExpiration = await post(
      { key: 'no-signature', AWSAccessKeyId: USER.accessKeyId, policy: notIso, signature: crypto.createHmac('sha1', USER.secretAccessKey).update(notIso).digest('base64') },
      Buffer.from('x'),
    );
    assert.equal(badExpiration.status, 400, badExpiration.text);
    assert.match(badExpiration.text, /<Code>InvalidPolicyDocument<\/Code>/);
    for (const key of ['elsewhere/x', 'extra', 'big', 'late', 'forged', 'unsigned', 'no-signature']) assert.equal(await exists(key), false, key);
  });

  it('does not let an unsigned form POST reach any other operation', async () => {
    const form = new FormData();
    form.append('file', new Blob(['x']), 'x');
    const response = await fetch(`${server.endpoint}/${BUCKET}/key?uploads`, { method: 'POST', body: form });
    assert.equal(response.status, 403);
    assert.match(await response.text(), /<Code>AccessDenied<\/Code>/);
  });
});
