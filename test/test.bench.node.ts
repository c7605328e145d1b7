// The benchmark (`npm run bench`) in its tiny configuration, so that it cannot rot: every
// scenario runs against smarts3 and yields a figure; and its load generator signs like an SDK
// (a server verifying signatures accepts it, and refuses it with a wrong secret).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTestServer, tempDir } from './helpers.js';

const root = path.join(import.meta.dirname, '..');
const loadgen = path.join(root, 'rust', 'target', 'debug', 'examples', 'loadgen');
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    childProcess.execFile(command, args, { cwd: root, timeout: 100_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

describe('benchmark', () => {
  it('runs every scenario against smarts3 in its quick configuration', async () => {
    const dir = tempDir('bench');
    dirs.push(dir);
    const out = path.join(dir, 'results.json');
    const bench = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--servers', 'smarts3', '--out', out]);
    assert.equal(bench.code, 0, bench.stderr);
    assert.match(bench.stdout, /## Throughput/);
    const { results } = JSON.parse(fs.readFileSync(out, 'utf8')) as { results: Record<string, Record<string, { value: number; note?: string }>> };
    const scenarios = Object.keys(results);
    for (const expected of ['PUT 4 KiB, 32 in flight', 'GET 4 KiB, 1 in flight', 'HEAD 4 KiB, 32 in flight', 'DELETE 4 KiB, 32 in flight', 'PUT 8 MiB, 4 streams', 'GET 8 MiB, 1 stream', 'LIST 300 nested keys, every page', 'peak RSS over the run', 'Node: process start → first answered request (median)', 'Node: stopping the server (median)']) {
      assert.ok(scenarios.includes(expected), `${expected} missing from ${scenarios.join('; ')}`);
    }
    assert.ok(scenarios.some((s) => s.startsWith('multipart')) && scenarios.some((s) => s.startsWith('mixed')));
    for (const [scenario, byServer] of Object.entries(results)) {
      const mine = byServer.smarts3;
      assert.ok(mine && mine.value > 0, `${scenario}: ${JSON.stringify(mine)}`);
      assert.ok(!mine.note?.includes('failed'), `${scenario}: ${mine.note}`);
    }
  });

  it('signs like an SDK: accepted by a verifying server, refused with a wrong secret or a non-loopback endpoint', async () => {
    const server = await startTestServer('bench-auth', { auth: { enabled: true, credentials: [{ accessKeyId: 'BENCHKEY', secretAccessKey: 'BENCHSECRET' }] } });
    try {
      const endpoint = server.endpoint.replace('http://', '');
      const base = ['--endpoint', endpoint, '--access-key', 'BENCHKEY', '--max-seconds', '20'];
      const created = await run(loadgen, [...base, '--secret-key', 'BENCHSECRET', 'create-bucket']);
      assert.equal(created.code, 0, created.stderr);
      const put = await run(loadgen, [...base, '--secret-key', 'BENCHSECRET', 'small', '--op', 'put', '--count', '20', '--concurrency', '4', '--prefix', 'signed/']);
      assert.equal(JSON.parse(put.stdout).ops, 20, put.stdout);
      const listed = await run(loadgen, [...base, '--secret-key', 'BENCHSECRET', 'list', '--prefix', 'signed/']);
      assert.equal(JSON.parse(listed.stdout).items, 20, listed.stdout);
      const forged = await run(loadgen, [...base, '--secret-key', 'WRONG', 'small', '--op', 'get', '--count', '5', '--prefix', 'signed/']);
      const report = JSON.parse(forged.stdout);
      assert.equal(report.errors, 5);
      assert.match(report.firstError, /status 403: .*SignatureDoesNotMatch/s);
      const remote = await run(loadgen, ['--endpoint', '192.0.2.1:80', 'create-bucket']);
      assert.equal(remote.code, 2);
      assert.match(remote.stderr, /only talks to loopback/);
    } finally {
      await server.stop();
    }
  });
});
