// The `smarts3` command line: flags, the printed connection details, a clean stop on SIGTERM.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { GetObjectCommand, CreateBucketCommand, ListBucketsCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { storedObject, tempDir } from './helpers.js';

const cli = path.join(import.meta.dirname, '..', 'dist_ts', 'cli.js');
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function runToEnd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    childProcess.execFile(process.execPath, [cli, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** The CLI started with `args`; `ready` resolves with its endpoint once it printed all it prints. */
function startCli(args: string[]) {
  const child = childProcess.spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  const ready = new Promise<{ endpoint: string; printed: string; whole: Promise<string> }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no endpoint printed: ${output}`)), 20_000);
    child.stdout.on('data', () => {
      const match = /endpoint:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match && output.includes('Press Ctrl-C')) {
        clearTimeout(timer);
        resolve({ endpoint: match[1], printed: output, whole: exited.then(() => output) });
      }
    });
  });
  return { child, exited, ready };
}

describe('smarts3 CLI', () => {
  it('documents every flag in --help and rejects unknown ones', async () => {
    const help = await runToEnd(['--help']);
    assert.equal(help.code, 0);
    for (const flag of ['--config', '--bucket', '--port', '--address', '--directory', '--clean-slate', '--region', '--access-key-id', '--secret-access-key', '--auth', '--cors-origin', '--no-cors', '--console', '--console-port', '--log-level', '--silent', '--version', '--help']) {
      assert.ok(help.stdout.includes(flag), flag);
    }
    const version = await runToEnd(['--version']);
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
    const bogus = await runToEnd(['--bogus']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /Unknown option '--bogus'/);
    const badPort = await runToEnd(['--port', 'eighty']);
    assert.equal(badPort.code, 2);
    const badConsolePort = await runToEnd(['--console-port', '70000']);
    assert.equal(badConsolePort.code, 2);
    assert.match(badConsolePort.stderr, /--console-port must be a port number/);
  });

  it('starts a server, prints how to reach it, and stops cleanly on SIGTERM', async () => {
    const directory = tempDir('cli');
    dirs.push(directory);
    const { child, exited, ready } = startCli(['--port', '0', '--directory', directory, '--clean-slate', '--access-key-id', 'CLIKEY', '--secret-access-key', 'cli-secret', '--auth', '--silent', '--console']);
    let endpoint: string;
    let consoleUrl: string;
    try {
      const started = await ready;
      endpoint = started.endpoint;
      const output = started.printed;
      assert.match(output, /accessKeyId:\s+CLIKEY/);
      assert.match(output, /secretAccessKey:\s+cli-secret/);
      assert.match(output, /region:\s+us-east-1/);
      assert.match(output, /export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+ AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=CLIKEY AWS_SECRET_ACCESS_KEY=cli-secret/);
      assert.match(output, /signatures:\s+verified/);
      consoleUrl = /web console:\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1];

      const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'CLIKEY', secretAccessKey: 'cli-secret' } });
      await client.send(new CreateBucketCommand({ Bucket: 'cli-bucket' }));
      await client.send(new PutObjectCommand({ Bucket: 'cli-bucket', Key: 'k', Body: 'from the cli server' }));
      const get = await client.send(new GetObjectCommand({ Bucket: 'cli-bucket', Key: 'k' }));
      assert.equal(await get.Body!.transformToString(), 'from the cli server');
      assert.match(await (await fetch(consoleUrl)).text(), /<title>smarts3 console<\/title>/);
      const { buckets } = await (await fetch(`${consoleUrl}api/buckets`)).json();
      assert.deepEqual(buckets.map((b: { name: string; objects: number }) => [b.name, b.objects]), [['cli-bucket', 1]]);
      const wrong = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'CLIKEY', secretAccessKey: 'nope' } });
      await assert.rejects(wrong.send(new GetObjectCommand({ Bucket: 'cli-bucket', Key: 'k' })), (e: S3ServiceException) => e.name === 'SignatureDoesNotMatch');
      client.destroy();
      wrong.destroy();

      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(await started.whole, /smarts3 stopped/);
    } finally {
      // Whatever failed above, the CLI (and with its stdin gone, its server) must not outlive the test.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const url of [endpoint, consoleUrl]) {
      const port = Number(new URL(url).port);
      const stillOpen = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      assert.equal(stillOpen, false, url);
    }
    assert.ok(fs.existsSync(storedObject(directory, 'cli-bucket', 'k')!.dataPath));
  });

  it('takes a config file (fault rules, seeded buckets) and --bucket fixtures; flags override the file', async () => {
    const directory = tempDir('cli-config');
    const fixtures = tempDir('cli-fixtures');
    dirs.push(directory, fixtures);
    fs.writeFileSync(path.join(fixtures, 'hello.txt'), 'seeded from the command line');
    const configFile = path.join(directory, '..', `${path.basename(directory)}.json`);
    dirs.push(configFile);
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        server: { address: '127.0.0.9', region: 'eu-west-1' },
        buckets: [{ name: 'from-file', versioning: 'Enabled' }],
        faults: [{ operations: ['GetObject'], keyPrefix: 'hello', error: { code: 'SlowDown' }, count: 1 }],
      }),
    );
    const { child, exited, ready } = startCli(['--config', configFile, '--address', '127.0.0.1', '--port', '0', '--directory', directory, '--clean-slate', '--bucket', `fixtures=${fixtures}`, '--bucket', 'empty', '--silent']);
    try {
      const { endpoint, printed } = await ready;
      assert.match(printed, /region:\s+eu-west-1/);
      const client = new S3Client({ endpoint, region: 'eu-west-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      const failed = await client.send(new GetObjectCommand({ Bucket: 'fixtures', Key: 'hello.txt' })).catch((e) => e);
      assert.equal(failed.name, 'SlowDown');
      const get = await client.send(new GetObjectCommand({ Bucket: 'fixtures', Key: 'hello.txt' }));
      assert.equal(await get.Body!.transformToString(), 'seeded from the command line');
      assert.equal(get.ContentType, 'text/plain');
      const listed = await client.send(new ListBucketsCommand({}));
      assert.deepEqual(listed.Buckets?.map((b) => b.Name).sort(), ['empty', 'fixtures', 'from-file']);
      client.destroy();
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
