// The aws CLI and rclone, used as a new user would: only the endpoint and credentials configured.
// (`npm test` installs both from Debian's packages when missing: scripts/ensure-test-tools.mjs.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTestServer, tempDir, type ITestServer } from './helpers.js';

let server: ITestServer;
let work: string;
let source: string;
let env: NodeJS.ProcessEnv;

/** Runs a command with a bound on its time; resolves stdout, rejects with stderr. */
function run(command: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { ...env, ...extraEnv }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

const sha256File = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

before(async () => {
  server = await startTestServer('cli-tools');
  work = tempDir('cli-work');
  source = path.join(work, 'src');
  fs.mkdirSync(path.join(source, 'sub', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(source, 'a.txt'), 'alpha\n');
  fs.writeFileSync(path.join(source, 'sub', 'with space+plus%.txt'), 'odd name\n');
  fs.writeFileSync(path.join(source, 'sub', 'deeper', 'ünïcode.txt'), 'unicode\n');
  // Above both tools' multipart thresholds (8 MiB for aws, rclone's upload cutoff is larger, so
  // rclone sends it whole).
  fs.writeFileSync(path.join(source, 'big.bin'), crypto.randomBytes(20 * 1024 * 1024 + 17));
  const d = await server.smarts3.getS3Descriptor();
  // A private HOME so no user config leaks in; no CA bundle (plain http; rclone refuses one).
  const { AWS_CA_BUNDLE: _ignored, ...inherited } = process.env;
  env = {
    ...inherited,
    HOME: work,
    AWS_ACCESS_KEY_ID: d.accessKey,
    AWS_SECRET_ACCESS_KEY: d.accessSecret,
    AWS_DEFAULT_REGION: d.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    RCLONE_CONFIG: path.join(work, 'rclone.conf'),
    RCLONE_CONFIG_LOCAL_S3_TYPE: 's3',
    RCLONE_CONFIG_LOCAL_S3_PROVIDER: 'Other',
    RCLONE_CONFIG_LOCAL_S3_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_LOCAL_S3_ACCESS_KEY_ID: d.accessKey,
    RCLONE_CONFIG_LOCAL_S3_SECRET_ACCESS_KEY: d.accessSecret,
  };
  fs.writeFileSync(env.RCLONE_CONFIG!, '');
});

after(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('aws CLI', () => {
  const aws = (...args: string[]) => run('aws', ['--endpoint-url', server.endpoint, ...args]);
  const quiet = '--only-show-errors';

  it('makes a bucket, copies, syncs, lists, downloads and removes', async () => {
    await aws('s3', 'mb', 's3://aws-cli');
    await aws('s3', 'cp', quiet, path.join(source, 'big.bin'), 's3://aws-cli/big.bin');
    await aws('s3', 'sync', quiet, source, 's3://aws-cli/synced');
    const listing = await aws('s3', 'ls', 's3://aws-cli', '--recursive');
    const keys = listing.trim().split('\n').map((line) => line.split(/\s+/).slice(3).join(' '));
    assert.deepEqual(keys.sort(), [
      'big.bin',
      'synced/a.txt',
      'synced/big.bin',
      'synced/sub/deeper/ünïcode.txt',
      'synced/sub/with space+plus%.txt',
    ]);
    // A second sync finds nothing to do; a changed file is uploaded again.
    assert.equal(await aws('s3', 'sync', source, 's3://aws-cli/synced'), '');
    fs.writeFileSync(path.join(source, 'a.txt'), 'alpha, changed\n');
    await aws('s3', 'sync', quiet, source, 's3://aws-cli/synced');

    const down = path.join(work, 'down');
    await aws('s3', 'cp', quiet, 's3://aws-cli/synced', down, '--recursive');
    for (const file of ['a.txt', 'big.bin', 'sub/with space+plus%.txt', 'sub/deeper/ünïcode.txt']) {
      assert.equal(sha256File(path.join(down, file)), sha256File(path.join(source, file)), file);
    }

    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'aws-cli', '--key', 'big.bin'));
    assert.equal(head.ContentLength, 20 * 1024 * 1024 + 17);
    assert.match(head.ETag, /^"[0-9a-f]{32}-3"$/, 'the CLI uploaded it in 8 MiB parts');
    const listed = JSON.parse(await aws('s3api', 'list-objects-v2', '--bucket', 'aws-cli', '--prefix', 'synced/sub/', '--delimiter', '/'));
    assert.deepEqual(listed.Contents.map((c: any) => c.Key), ['synced/sub/with space+plus%.txt']);
    assert.deepEqual(listed.CommonPrefixes.map((p: any) => p.Prefix), ['synced/sub/deeper/']);

    await aws('s3', 'rm', quiet, 's3://aws-cli', '--recursive');
    await aws('s3', 'rb', 's3://aws-cli');
    const buckets = JSON.parse(await aws('s3api', 'list-buckets'));
    assert.ok(!buckets.Buckets.some((b: any) => b.Name === 'aws-cli'));
  });
});

describe('rclone', () => {
  const rclone = (...args: string[]) => run('rclone', ['-q', ...args]);

  it('copies, syncs, lists, checks and purges', async () => {
    await rclone('mkdir', 'local_s3:rclone');
    await rclone('copy', source, 'local_s3:rclone/copied');
    await rclone('sync', source, 'local_s3:rclone/synced');
    const listing = await rclone('ls', 'local_s3:rclone/synced');
    const names = listing.trim().split('\n').map((line) => line.trim().split(/\s+/).slice(1).join(' '));
    assert.deepEqual(names.sort(), ['a.txt', 'big.bin', 'sub/deeper/ünïcode.txt', 'sub/with space+plus%.txt']);
    // check compares sizes and hashes (MD5 from ETags); --download compares the bytes.
    await rclone('check', source, 'local_s3:rclone/synced');
    await rclone('check', '--download', source, 'local_s3:rclone/copied');
    fs.writeFileSync(path.join(source, 'sub', 'new.txt'), 'new file\n');
    fs.rmSync(path.join(source, 'a.txt'));
    await rclone('sync', source, 'local_s3:rclone/synced');
    await rclone('check', source, 'local_s3:rclone/synced');
    await rclone('purge', 'local_s3:rclone');
    const buckets = await rclone('lsd', 'local_s3:');
    assert.ok(!buckets.includes('rclone'));
  });
});
