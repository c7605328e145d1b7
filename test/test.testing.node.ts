// `@push.rocks/smarts3/testing`: one server for a whole run of vitest (globalSetup), jest
// (globalSetup + globalTeardown) and node:test (`smarts3 exec -- node --test`). Each fixture run
// has two test files doing an S3 round trip; both must reach the same server, and that server
// must be gone once the runner exits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { tempDir } from './helpers.js';

const root = path.join(import.meta.dirname, '..');
const fixtures = path.join(import.meta.dirname, 'fixtures', 'runners');
const cli = path.join(root, 'dist_ts', 'cli.js');

/** Runs a command from the package root with OUT_DIR set; resolves with its exit code and output. */
function run(args: string[], outDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, OUT_DIR: outDir };
    // This process runs under node:test (a nested `node --test` would take itself for one of
    // its children) and may run under `smarts3 exec`: the fixtures must see neither.
    delete env.NODE_TEST_CONTEXT;
    delete env.SMARTS3_TEST_SERVER;
    const child = childProcess.spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs a fixture and checks: it passed, its two files saw one server, the server is gone. */
async function checkRunner(args: string[], prefix: string) {
  const outDir = tempDir(`runner-${prefix}`);
  try {
    const { code, output } = await run(args, outDir);
    assert.equal(code, 0, output);
    const seen = ['one', 'two'].map((n) => JSON.parse(fs.readFileSync(path.join(outDir, `${prefix}-${n}.json`), 'utf8')));
    assert.match(seen[0].endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(seen[1], seen[0], 'both test files reached the same server');
    assert.equal(alive(seen[0].pid), false, 'the server process outlived the run');
    assert.equal(await portOpen(Number(new URL(seen[0].endpoint).port)), false, 'the port is still open');
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

describe('@push.rocks/smarts3/testing', () => {
  it('vitest: globalSetup starts one server for the run and stops it', async () => {
    await checkRunner([path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', path.join(fixtures, 'vitest')], 'vitest');
  });

  it('jest: globalSetup/globalTeardown share one server through the AWS variables', async () => {
    const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
    await checkRunner([jest, '--config', path.join(fixtures, 'jest', 'jest.config.cjs'), '--rootDir', path.join(fixtures, 'jest')], 'jest');
  });

  it('node:test: smarts3 exec runs the whole run against one server', async () => {
    await checkRunner([cli, 'exec', '--', process.execPath, '--test', path.join(fixtures, 'node')], 'node');
  });

  it('smarts3 exec passes the exit code on, and says when the command is missing', async () => {
    const outDir = tempDir('runner-exit');
    try {
      const failed = await run([cli, 'exec', '--', process.execPath, '-e', 'process.exit(process.env.SMARTS3_TEST_SERVER ? 3 : 4)'], outDir);
      assert.equal(failed.code, 3);
      const missing = await run([cli, 'exec', '--', 'no-such-command-smarts3'], outDir);
      assert.equal(missing.code, 127);
      assert.match(missing.output, /no-such-command-smarts3/);
      const none = await run([cli, 'exec'], outDir);
      assert.equal(none.code, 2);
      assert.match(none.output, /exec needs a command after --/);
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });

  it('s3Env() outside a set-up run says how to set one up', async () => {
    const { s3Env } = await import('../ts/testing/index.js');
    const saved = process.env.SMARTS3_TEST_SERVER;
    delete process.env.SMARTS3_TEST_SERVER;
    try {
      assert.throws(() => s3Env(), /SMARTS3_TEST_SERVER is not set: start the server in a global setup/);
    } finally {
      if (saved !== undefined) process.env.SMARTS3_TEST_SERVER = saved;
    }
  });
});
