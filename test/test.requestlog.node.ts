// The request log: every request as one record (bytes in and out, requester, fault, duration),
// as a `request` event, appended to a JSON-lines file, kept for getRequests(), and counted in
// getStats().
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Error, startTestServer, tempDir, uniqueBucket } from './helpers.js';
import type { ITestServer } from './helpers.js';
import type { IRequestRecord } from '../ts/index.js';

describe('request log', () => {
  let server: ITestServer;
  let logDir: string;
  let logFile: string;
  const bucket = uniqueBucket('reqlog');
  const body = 'x'.repeat(1000);

  before(async () => {
    logDir = tempDir('reqlog-file');
    logFile = path.join(logDir, 'requests.jsonl');
    server = await startTestServer('reqlog', {
      auth: { enabled: true, credentials: [{ accessKeyId: 'LOGGER', secretAccessKey: 'logger-secret' }] },
      logging: { requestLogFile: logFile },
    });
    await server.client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    await server.stop();
    fs.rmSync(logDir, { recursive: true, force: true });
  });

  it('streams each request as a `request` event with its bytes, requester and status', async () => {
    const seen: IRequestRecord[] = [];
    const listener = (record: IRequestRecord) => seen.push(record);
    server.smarts3.on('request', listener);
    // The subscription is sent on the first listener; a request answered after it is seen.
    await server.smarts3.getStats();
    await server.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'logged', Body: body }));
    await server.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'logged' })).then((r) => r.Body!.transformToString());
    await server.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'logged' }));
    const unsigned = await fetch(`${server.endpoint}/${bucket}/logged`);
    assert.equal(unsigned.status, 403);
    await unsigned.text();
    const deadline = Date.now() + 5000;
    while (seen.filter((r) => r.key === 'logged').length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    server.smarts3.off('request', listener);
    const records = seen.filter((r) => r.key === 'logged');
    assert.deepEqual(
      records.map((r) => [r.operation, r.status, r.requester]),
      [
        ['PutObject', 200, 'LOGGER'],
        ['GetObject', 200, 'LOGGER'],
        ['HeadObject', 200, 'LOGGER'],
        ['GetObject', 403, null],
      ],
    );
    const [put, get, head, denied] = records;
    assert.ok(put.bytesIn >= 1000, `PutObject bytesIn ${put.bytesIn}`);
    assert.equal(get.bytesOut, 1000);
    assert.equal(head.bytesOut, 0);
    assert.equal(denied.errorCode, 'AccessDenied');
    assert.ok(denied.bytesOut > 0, 'the error document counts as bytes out');
    assert.ok(records.every((r, i) => i === 0 || r.seq > records[i - 1].seq));
    assert.ok(records.every((r) => r.method && r.requestId.match(/^[0-9A-F]{16}$/) && r.durationMs >= 0 && r.bucket === bucket));
  });

  it('getStats() counts bytes in and out by operation and in all', async () => {
    const stats = await server.smarts3.getStats();
    const row = (operation: string, status: number) => stats.requests.find((r) => r.operation === operation && r.status === status)!;
    assert.ok(row('PutObject', 200).bytesIn >= 1000);
    assert.equal(row('GetObject', 200).bytesOut, 1000);
    assert.equal(stats.bytesIn, stats.requests.reduce((sum, r) => sum + r.bytesIn, 0));
    assert.equal(stats.bytesOut, stats.requests.reduce((sum, r) => sum + r.bytesOut, 0));
  });

  it('appends every request to the JSON-lines file, in order, complete once the server stops', async () => {
    const kept = await server.smarts3.getRequests();
    await server.stop();
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i + 1));
    assert.deepEqual(lines, kept);
    const put = lines.find((l) => l.operation === 'PutObject' && l.key === 'logged');
    assert.equal(put?.requester, 'LOGGER');
    // Restart on the same file so `after` can stop the server: records are appended.
    const before = lines.length;
    server = await startTestServer('reqlog', {
      auth: { enabled: true, credentials: [{ accessKeyId: 'LOGGER', secretAccessKey: 'logger-secret' }] },
      logging: { requestLogFile: logFile },
    });
    await s3Error(server.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'gone' })));
    await server.stop();
    const after = fs.readFileSync(logFile, 'utf8').trim().split('\n');
    assert.equal(after.length, before + 1);
    assert.equal(JSON.parse(after[before]).operation, 'HeadObject');
    server = await startTestServer('reqlog');
  });

  it('a request log file that cannot be opened stops the start with the reason', async () => {
    await assert.rejects(
      startTestServer('reqlog-bad', { logging: { requestLogFile: path.join(logDir, 'no', 'such', 'dir', 'log.jsonl') } }),
      /logging\.requestLogFile .*log\.jsonl/,
    );
  });
});
