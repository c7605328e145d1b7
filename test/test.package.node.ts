// The package as users get it: `npm pack`, the tarball's contents, and an install into a fresh
// project that starts Smarts3, stores and reads an object through the AWS SDK, and stops.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { storedObject, tempDir } from './helpers.js';

const root = path.join(import.meta.dirname, '..');
const work = tempDir('package');
let tarball: string;
let files: { path: string; mode: number }[];

function npm(args: string[], cwd: string): string {
  return childProcess.execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

before(() => {
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], root));
  tarball = path.join(work, packed.filename);
  files = packed.files;
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('ships dist_ts, both binaries with their run bit, and the readme — nothing else', () => {
    const names = files.map((f) => f.path);
    for (const expected of ['package.json', 'readme.md', 'dist_ts/index.js', 'dist_ts/index.d.ts', 'dist_ts/cli.js', 'dist_ts/classes.smarts3.js', 'dist_ts/testing/index.js', 'dist_ts/testing/vitest.js']) {
      assert.ok(names.includes(expected), `${expected} is in the package`);
    }
    for (const binary of ['dist_rust/rusts3_linux_amd64', 'dist_rust/rusts3_linux_arm64']) {
      const entry = files.find((f) => f.path === binary);
      assert.ok(entry, `${binary} is in the package`);
      assert.equal(entry.mode & 0o111, 0o111, `${binary} is executable`);
    }
    // npm always ships readme.* files, so the maintainers' readme.hints.md comes along.
    const allowed = /^(package\.json|readme\.md|readme\.hints\.md|npmextra\.json|dist_ts\/(testing\/)?[^/]+\.(js|d\.ts|js\.map)|dist_rust\/rusts3_linux_(amd64|arm64))$/;
    const litter = names.filter((n) => !allowed.test(n));
    assert.deepEqual(litter, [], 'no sources or build litter');
  });
});

describe('installed into a fresh project', () => {
  let project: string;
  before(() => {
    project = path.join(work, 'consumer');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    npm(['install', '--prefer-offline', '--no-save', tarball, '@aws-sdk/client-s3'], project);
  });

  function runInProject(script: string, nodeArgs: string[] = []): { code: number; stdout: string; stderr: string } {
    fs.writeFileSync(path.join(project, 'check.mjs'), script);
    const result = childProcess.spawnSync(process.execPath, [...nodeArgs, 'check.mjs'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  it('finds the binary for this platform, starts, stores, reads and stops', () => {
    const result = runInProject(`
      import { Smarts3 } from '@push.rocks/smarts3';
      import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
      const s3 = await Smarts3.createAndStart({ server: { port: 0, silent: true }, storage: { directory: './data', cleanSlate: true } });
      const d = await s3.getS3Descriptor();
      const client = new S3Client({ endpoint: 'http://' + d.endpoint + ':' + d.port, region: d.region, forcePathStyle: true,
        credentials: { accessKeyId: d.accessKey, secretAccessKey: d.accessSecret } });
      await client.send(new CreateBucketCommand({ Bucket: 'installed' }));
      await client.send(new PutObjectCommand({ Bucket: 'installed', Key: 'k', Body: 'from the installed package' }));
      const body = await (await client.send(new GetObjectCommand({ Bucket: 'installed', Key: 'k' }))).Body.transformToString();
      client.destroy();
      await s3.stop();
      console.log(JSON.stringify({ body }));
    `);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout.trim().split('\n').pop()!), { body: 'from the installed package' });
    assert.ok(fs.existsSync(storedObject(path.join(project, 'data'), 'installed', 'k')!.dataPath));
  });

  it('names the supported platforms on an unsupported one', () => {
    const pretend = `data:text/javascript,Object.defineProperty(process, 'platform', { value: 'sunos' });`;
    const result = runInProject(
      `
      import { Smarts3 } from '@push.rocks/smarts3';
      try {
        await new Smarts3({ server: { port: 0 } }).start();
        console.log('started');
      } catch (error) {
        console.log(error.message);
      }
    `,
      ['--import', pretend],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /no server binary for sunos\/x64|no server binary for sunos\/arm64/);
    assert.match(result.stdout, /supported platforms: linux\/x64, linux\/arm64/);
  });

  it('exports @push.rocks/smarts3/testing and its runner entry points', () => {
    const result = runInProject(`
      import { startTestS3, s3Env } from '@push.rocks/smarts3/testing';
      import vitestSetup from '@push.rocks/smarts3/testing/vitest';
      import jestSetup from '@push.rocks/smarts3/testing/jest-setup';
      import jestTeardown from '@push.rocks/smarts3/testing/jest-teardown';
      const running = await startTestS3();
      const reached = await fetch(s3Env().endpoint).then((r) => r.status);
      await running.stop();
      console.log(JSON.stringify({ reached, entries: [vitestSetup, jestSetup, jestTeardown].map((f) => typeof f) }));
    `);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout.trim().split('\n').pop()!), { reached: 200, entries: ['function', 'function', 'function'] });
  });

  it('installs the smarts3 command', () => {
    const bin = path.join(project, 'node_modules', '.bin', 'smarts3');
    const help = childProcess.execFileSync(bin, ['--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.match(help, /Usage: smarts3 \[options\]/);
  });
});
