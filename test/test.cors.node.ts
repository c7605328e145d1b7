// The bucket CORS API and S3's rule matching, seen at the HTTP level (preflights and actual
// requests with an Origin). The browser suite proves the same rules in Chromium.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startTestServer, type ITestServer } from './helpers.js';

function request(server: ITestServer, method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(new URL(path, server.endpoint), { method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const preflight = (server: ITestServer, path: string, origin: string | undefined, method: string | undefined, requestHeaders?: string) =>
  request(server, 'OPTIONS', path, {
    ...(origin ? { origin } : {}),
    ...(method ? { 'access-control-request-method': method } : {}),
    ...(requestHeaders ? { 'access-control-request-headers': requestHeaders } : {}),
  });

describe('bucket CORS rules (server default off, as S3)', () => {
  let server: ITestServer;
  before(async () => {
    server = await startTestServer('cors', { cors: { enabled: false } });
    await server.client.send(new CreateBucketCommand({ Bucket: 'with-rules' }));
    await server.client.send(new CreateBucketCommand({ Bucket: 'without-rules' }));
    await server.client.send(new PutObjectCommand({ Bucket: 'with-rules', Key: 'k', Body: 'v' }));
  });
  after(async () => server?.stop());

  it('puts, gets and deletes a CORS configuration', async () => {
    const none = await server.client.send(new GetBucketCorsCommand({ Bucket: 'with-rules' })).catch((e: S3ServiceException) => e);
    assert.equal((none as S3ServiceException).name, 'NoSuchCORSConfiguration');
    assert.equal((none as S3ServiceException).$metadata.httpStatusCode, 404);
    const CORSRules = [
      {
        ID: 'app',
        AllowedOrigins: ['http://*.app.test'],
        AllowedMethods: ['GET', 'PUT'],
        AllowedHeaders: ['x-amz-*', 'Content-Type', 'Authorization'],
        ExposeHeaders: ['ETag'],
        MaxAgeSeconds: 3000,
      },
      { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
    ];
    await server.client.send(new PutBucketCorsCommand({ Bucket: 'with-rules', CORSConfiguration: { CORSRules } }));
    const got = await server.client.send(new GetBucketCorsCommand({ Bucket: 'with-rules' }));
    assert.deepEqual(got.CORSRules, [CORSRules[0], { AllowedOrigins: ['*'], AllowedMethods: ['GET'] }]);
    const bad = await server.client
      .send(new PutBucketCorsCommand({ Bucket: 'without-rules', CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }] } }))
      .catch((e: S3ServiceException) => e);
    assert.equal((bad as S3ServiceException).name, 'InvalidRequest');
  });

  it('answers preflights by the first matching rule', async () => {
    const ok = await preflight(server, '/with-rules/k', 'http://web.app.test', 'PUT', 'X-Amz-Date, content-type, authorization');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], 'http://web.app.test');
    assert.equal(ok.headers['access-control-allow-methods'], 'GET, PUT');
    assert.equal(ok.headers['access-control-allow-headers'], 'X-Amz-Date, content-type, authorization');
    assert.equal(ok.headers['access-control-max-age'], '3000');
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    assert.match(ok.headers.vary as string, /Origin/);

    const anyone = await preflight(server, '/with-rules/k', 'http://other.test', 'GET');
    assert.equal(anyone.status, 200);
    assert.equal(anyone.headers['access-control-allow-origin'], '*');
    assert.equal(anyone.headers['access-control-allow-credentials'], undefined);

    const wrongMethod = await preflight(server, '/with-rules/k', 'http://other.test', 'DELETE');
    assert.equal(wrongMethod.status, 403);
    assert.match(wrongMethod.body, /<Code>CORSResponse<\/Code>/);
    const wrongHeader = await preflight(server, '/with-rules/k', 'http://web.app.test', 'PUT', 'x-custom-header');
    assert.equal(wrongHeader.status, 403);
    const noRules = await preflight(server, '/without-rules/k', 'http://web.app.test', 'GET');
    assert.equal(noRules.status, 403);
    assert.match(noRules.body, /CORS is not enabled for this bucket/);
    const notPreflight = await preflight(server, '/with-rules/k', undefined, 'GET');
    assert.equal(notPreflight.status, 400);
  });

  it('adds CORS headers to actual responses (errors too) only when a rule matches', async () => {
    const get = await request(server, 'GET', '/with-rules/k', { origin: 'http://web.app.test' });
    assert.equal(get.status, 200);
    assert.equal(get.headers['access-control-allow-origin'], 'http://web.app.test');
    assert.equal(get.headers['access-control-expose-headers'], 'ETag');
    // As S3: the rule's methods and max age come with actual responses too.
    assert.equal(get.headers['access-control-allow-methods'], 'GET, PUT');
    assert.equal(get.headers['access-control-max-age'], '3000');
    assert.equal(get.headers.vary, 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
    const missing = await request(server, 'GET', '/with-rules/nope', { origin: 'http://web.app.test' });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['access-control-allow-origin'], 'http://web.app.test');
    const unmatched = await request(server, 'DELETE', '/with-rules/k', { origin: 'http://other.test' });
    assert.equal(unmatched.headers['access-control-allow-origin'], undefined);
    const noOrigin = await request(server, 'GET', '/with-rules/k');
    assert.equal(noOrigin.headers['access-control-allow-origin'], undefined);
    const ruleless = await request(server, 'GET', '/without-rules', { origin: 'http://web.app.test' });
    assert.equal(ruleless.headers['access-control-allow-origin'], undefined);
  });

  it('forgets the rules after DeleteBucketCors', async () => {
    const deleted = await server.client.send(new DeleteBucketCorsCommand({ Bucket: 'with-rules' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    const after = await preflight(server, '/with-rules/k', 'http://web.app.test', 'GET');
    assert.equal(after.status, 403);
  });

  it('keeps rules across a restart', async () => {
    await server.client.send(
      new PutBucketCorsCommand({ Bucket: 'with-rules', CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://kept.test'], AllowedMethods: ['GET'] }] } }),
    );
    const restarted = await startTestServer('cors-restart', { cors: { enabled: false }, storage: { directory: server.directory, cleanSlate: false } });
    try {
      const ok = await preflight(restarted, '/with-rules/k', 'http://kept.test', 'GET');
      assert.equal(ok.status, 200);
    } finally {
      await restarted.smarts3.stop();
    }
  });
});

describe('the server-wide default', () => {
  it('is permissive out of the box, and follows config.cors', async () => {
    const open = await startTestServer('cors-default');
    try {
      const any = await preflight(open, '/', 'http://localhost:5173', 'PUT', 'authorization, x-amz-date');
      assert.equal(any.status, 200);
      assert.equal(any.headers['access-control-allow-origin'], '*');
      const list = await request(open, 'GET', '/', { origin: 'http://localhost:5173' });
      assert.equal(list.headers['access-control-allow-origin'], '*');
      assert.match(list.headers['access-control-expose-headers'] as string, /ETag/);
    } finally {
      await open.stop();
    }
    const strict = await startTestServer('cors-configured', {
      cors: { enabled: true, allowedOrigins: ['http://only.test'], allowedMethods: ['GET'], allowCredentials: true, maxAge: 5 },
    });
    try {
      const ok = await preflight(strict, '/some-bucket', 'http://only.test', 'GET');
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['access-control-allow-origin'], 'http://only.test');
      assert.equal(ok.headers['access-control-allow-credentials'], 'true');
      assert.equal(ok.headers['access-control-max-age'], '5');
      const no = await preflight(strict, '/some-bucket', 'http://evil.test', 'GET');
      assert.equal(no.status, 403);
    } finally {
      await strict.stop();
    }
  });
});
