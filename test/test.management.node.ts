// The management (IPC) protocol of the rusts3 binary, spoken directly, and the Smarts3 wrapper's
// life cycle: start/stop, errors that say what went wrong, several instances side by side, and the
// admin commands (listBuckets, getStats, emptyBucket, deleteBucket with force, reset).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';
import {
  CreateBucketCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Smarts3 } from '../ts/index.js';
import { startTestServer, storedObject, tempDir, whenDirectory } from './helpers.js';

const binary = path.join(import.meta.dirname, '..', 'dist_rust', `rusts3_linux_${process.arch === 'arm64' ? 'arm64' : 'amd64'}`);

/** The binary in --management mode, with a line reader on its stdout. */
class ManagedProcess {
  readonly child: childProcess.ChildProcessWithoutNullStreams;
  private lines: string[] = [];
  private waiters: ((line: string) => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor() {
    this.child = childProcess.spawn(binary, ['--management'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.resume();
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter(line);
      else this.lines.push(line);
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** The next stdout line as JSON; fails after a bound instead of hanging. */
  next(timeoutMs = 10_000): Promise<any> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no line from rusts3 in time')), timeoutMs);
      this.waiters.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      });
    });
  }

  send(raw: string) {
    this.child.stdin.write(`${raw}\n`);
  }

  async command(id: string, method: string, params: unknown) {
    this.send(JSON.stringify({ id, method, params }));
    return this.next();
  }

  kill() {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once `done()` holds, polling every `everyMs`; rejects with `what` after `ms`. */
async function until(done: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 0): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Resolves once the port refuses connections (the listener is closed); rejects after `ms`. */
async function untilRefused(port: number, ms: number): Promise<void> {
  await until(async () => !(await canConnect(port)), ms, `port ${port} still accepts connections`);
}

/** Resident memory of a process, from /proc. */
function processRssKiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

/** Whether a process runs (a zombie nobody has reaped yet has exited). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('rusts3 --management', () => {
  const processes: ManagedProcess[] = [];
  const dirs: string[] = [];
  after(() => {
    processes.forEach((p) => p.kill());
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  });

  it('speaks the JSON-lines protocol: ready, start, createBucket, errors, stop, exit on stdin close', async () => {
    const proc = new ManagedProcess();
    processes.push(proc);
    const directory = tempDir('mgmt');
    dirs.push(directory);

    const ready = await proc.next();
    assert.equal(ready.event, 'ready');
    assert.equal(ready.id, undefined);
    assert.equal(ready.data.pid, proc.child.pid);

    const started = await proc.command('req_1', 'start', {
      config: { server: { port: 0, silent: true }, storage: { directory } },
    });
    assert.equal(started.id, 'req_1');
    assert.equal(started.success, true, JSON.stringify(started));
    assert.ok(started.result.port > 0);
    assert.equal(started.result.address, '127.0.0.1');
    assert.equal(started.result.region, 'us-east-1');
    assert.equal(started.result.directory, fs.realpathSync(directory));
    // The server reports every default it filled in, so the wrapper repeats none.
    assert.equal(started.result.authEnabled, false);
    assert.deepEqual(started.result.credentials, [{ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }]);
    assert.equal(started.result.pid, proc.child.pid);
    assert.match(started.result.version, /^\d+\.\d+\.\d+/);
    assert.ok(await canConnect(started.result.port));

    const created = await proc.command('req_2', 'createBucket', { name: 'ipc-bucket' });
    assert.deepEqual(created, { id: 'req_2', success: true, result: { name: 'ipc-bucket', created: true } });
    assert.ok(fs.statSync(path.join(directory, 'ipc-bucket')).isDirectory());
    const invalid = await proc.command('req_3', 'createBucket', { name: 'Not_Valid' });
    assert.equal(invalid.success, false);
    assert.match(invalid.error, /invalid bucket name/);
    const noName = await proc.command('req_4', 'createBucket', {});
    assert.equal(noName.success, false);

    proc.send('this is not json');
    const garbage = await proc.next();
    assert.equal(garbage.success, false);
    assert.match(garbage.error, /not JSON/);

    proc.child.stdin.write(Buffer.from([0xff, 0xfe, 0x7b, 0x0a]));
    const binary = await proc.next();
    assert.equal(binary.success, false);
    assert.match(binary.error, /not UTF-8/);

    const unknown = await proc.command('req_5', 'frobnicate', {});
    assert.deepEqual(unknown, { id: 'req_5', success: false, error: "unknown method 'frobnicate'" });

    const twice = await proc.command('req_6', 'start', { config: {} });
    assert.equal(twice.success, false);
    assert.match(twice.error, /already running/);

    // The server still works after all of that.
    const client = new S3Client({
      endpoint: `http://127.0.0.1:${started.result.port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
      forcePathStyle: true,
    });
    const buckets = await client.send(new ListBucketsCommand({}));
    assert.deepEqual(buckets.Buckets!.map((b) => b.Name), ['ipc-bucket']);
    client.destroy();

    const stopped = await proc.command('req_7', 'stop', {});
    assert.equal(stopped.success, true);
    assert.equal(await canConnect(started.result.port), false, 'the port is closed once stop answered');

    const restarted = await proc.command('req_8', 'start', { config: { server: { port: 0, silent: true }, storage: { directory } } });
    assert.equal(restarted.success, true);

    proc.child.stdin.end();
    const code = await withTimeout(proc.exited, 10_000, 'exit after stdin closed');
    assert.equal(code, 0);
    assert.equal(await canConnect(restarted.result.port), false);
  });

  it('lets an in-flight request finish before stop answers', async () => {
    const proc = new ManagedProcess();
    processes.push(proc);
    const directory = tempDir('drain');
    dirs.push(directory);
    await proc.next();
    const started = await proc.command('s', 'start', { config: { server: { port: 0, silent: true }, storage: { directory } } });
    await proc.command('b', 'createBucket', { name: 'drain' });
    const response = new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: started.result.port, method: 'PUT', path: '/drain/slow', headers: { 'content-length': 10 } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.write('01234', async () => {
        // Wait (bounded) until the server is demonstrably inside the request: its upload's temp
        // file exists. Only then ask it to stop, and finish the body afterwards.
        const tmp = path.join(fs.realpathSync(directory), '.tmp');
        try {
          await whenDirectory(tmp, (entries) => entries.length > 0, 10_000, 'the upload reaching the server');
          proc.send(JSON.stringify({ id: 'stop', method: 'stop', params: {} }));
          // Finish the body only once the server has stopped accepting: stop is draining now.
          await untilRefused(started.result.port, 10_000);
        } catch (error) {
          return reject(error);
        }
        req.end('56789');
      });
    });
    assert.equal(await response, 200);
    const stopped = await proc.next();
    assert.deepEqual(stopped, { id: 'stop', success: true, result: {} });
    assert.equal(fs.readFileSync(storedObject(directory, 'drain', 'slow')!.dataPath, 'utf8'), '0123456789');
    assert.equal(await canConnect(started.result.port), false);
    proc.child.stdin.end();
    assert.equal(await withTimeout(proc.exited, 10_000, 'exit'), 0);
  });

  it('survives oversized, partial and early lines, and stop twice', async () => {
    const proc = new ManagedProcess();
    processes.push(proc);
    const directory = tempDir('lines');
    dirs.push(directory);
    await proc.next();
    // Before start: every server command says so; stop is a no-op.
    const early = await proc.command('e1', 'createBucket', { name: 'early' });
    assert.deepEqual(early, { id: 'e1', success: false, error: 'the server is not running; call start first' });
    assert.match((await proc.command('e2', 'listBuckets', {})).error, /not running/);
    assert.deepEqual(await proc.command('e3', 'stop', {}), { id: 'e3', success: true, result: {} });
    // A 5 MiB line is refused once, without holding it, and the next line is read normally.
    const rssBefore = processRssKiB(proc.child.pid!);
    proc.send(`{"id":"big","method":"start","params":{"pad":"${'x'.repeat(5 * 1024 * 1024)}"}}`);
    assert.deepEqual(await proc.next(), { id: null, success: false, error: 'command line too long' });
    assert.ok(processRssKiB(proc.child.pid!) - rssBefore < 4 * 1024, 'the long line was not buffered whole');
    const started = await proc.command('s', 'start', { config: { server: { port: 0, silent: true }, storage: { directory } } });
    assert.equal(started.success, true, JSON.stringify(started));
    // A JSON value that is not a command.
    proc.send('[1,2,3]');
    assert.match((await proc.next()).error, /missing "method"/);
    // A command split across writes is one command.
    proc.child.stdin.write('{"id":"split","meth');
    await new Promise((resolve) => setTimeout(resolve, 50));
    proc.send('od":"createBucket","params":{"name":"split-line"}}');
    assert.deepEqual(await proc.next(), { id: 'split', success: true, result: { name: 'split-line', created: true } });
    assert.deepEqual(await proc.command('t1', 'stop', {}), { id: 't1', success: true, result: {} });
    assert.deepEqual(await proc.command('t2', 'stop', {}), { id: 't2', success: true, result: {} });
    assert.equal(await canConnect(started.result.port), false);
    // A last command without its newline is still answered before the process exits.
    proc.child.stdin.end('{"id":"last","method":"listBuckets","params":{}}');
    assert.match((await proc.next()).error, /not running/);
    assert.equal(await withTimeout(proc.exited, 10_000, 'exit'), 0);
  });

  it('stops and frees its port when the parent that spawned it is killed', async () => {
    // A parent process that starts a server through Smarts3, prints its port and pid, and waits.
    const script = path.join(tempDir('parent'), 'parent.mts');
    dirs.push(path.dirname(script));
    const index = path.join(import.meta.dirname, '..', 'ts', 'index.ts');
    fs.writeFileSync(
      script,
      `import { Smarts3 } from ${JSON.stringify(index)};
const s = await Smarts3.createAndStart({ server: { port: 0, silent: true }, storage: { directory: ${JSON.stringify(path.dirname(script))} } });
console.log(JSON.stringify(s.getServerInfo()));
setInterval(() => {}, 1000);
`,
    );
    const parent = childProcess.spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const info = JSON.parse(
        await withTimeout(
          new Promise<string>((resolve) => readline.createInterface({ input: parent.stdout }).once('line', resolve)),
          20_000,
          'the parent starting its server',
        ),
      );
      assert.ok(await canConnect(info.port));
      parent.kill('SIGKILL');
      await untilRefused(info.port, 10_000);
      await until(() => !isAlive(info.pid), 10_000, 'the server process outlived its parent', 20);
    } finally {
      if (parent.exitCode === null) parent.kill('SIGKILL');
    }
  });

  it('rejects a bad config with an error response', async () => {
    const proc = new ManagedProcess();
    processes.push(proc);
    await proc.next();
    const bad = await proc.command('req_1', 'start', { config: { server: { port: 'eighty' } } });
    assert.equal(bad.success, false);
    assert.match(bad.error, /invalid config/);
    proc.child.stdin.end();
    assert.equal(await withTimeout(proc.exited, 10_000, 'exit'), 0);
  });
});

describe('Smarts3 life cycle', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('runs two instances side by side and stops each idempotently', async () => {
    const one = await Smarts3.createAndStart({ server: { port: 0, silent: true }, storage: { directory: tempDir('one') } });
    const two = await Smarts3.createAndStart({ server: { port: 0, silent: true }, storage: { directory: tempDir('two') } });
    dirs.push(one.getServerInfo().directory, two.getServerInfo().directory);
    const pids = [one.getServerInfo().pid, two.getServerInfo().pid];
    assert.notEqual(pids[0], pids[1]);
    assert.equal(one.getServerInfo().credentials[0].accessKeyId, 'S3RVER');
    const d1 = await one.getS3Descriptor();
    const d2 = await two.getS3Descriptor();
    try {
      assert.notEqual(d1.port, d2.port);
      assert.equal(d1.endpoint, '127.0.0.1');
      assert.equal(d1.accessKey, 'S3RVER');
      assert.equal(d1.useSsl, false);
      assert.equal((await one.getS3Descriptor({ bucketName: 'x' })).bucketName, 'x');
      await one.createBucket('only-in-one');
      const client = (port: number | string | undefined) =>
        new S3Client({
          endpoint: `http://127.0.0.1:${port}`,
          region: 'us-east-1',
          credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
          forcePathStyle: true,
        });
      const c1 = client(d1.port);
      const c2 = client(d2.port);
      assert.deepEqual((await c1.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name), ['only-in-one']);
      assert.deepEqual((await c2.send(new ListBucketsCommand({}))).Buckets, []);
      c1.destroy();
      c2.destroy();
    } finally {
      await one.stop();
      await one.stop();
      await two.stop();
    }
    assert.equal(await canConnect(Number(d1.port)), false);
    assert.equal(await canConnect(Number(d2.port)), false);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), 'stop() returns once the process is gone');
    await assert.rejects(one.getS3Descriptor(), /not running/);
  });

  it('stops under load within a bound, refusing new requests and losing nothing acknowledged', async () => {
    const directory = tempDir('load');
    dirs.push(directory);
    const options = { server: { port: 0, silent: true }, storage: { directory } };
    const smarts3 = await Smarts3.createAndStart(options);
    await smarts3.createBucket('load');
    const port = Number(smarts3.getServerInfo().port);
    const acknowledged: string[] = [];
    const failures: string[] = [];
    let stopping = false;
    let answeredWhileStopping = 0;
    const body = (key: string) => `${key}:`.padEnd(64 * 1024, key);
    const put = (key: string) =>
      new Promise<number | null>((resolve) => {
        const payload = body(key);
        const req = http.request(
          { host: '127.0.0.1', port, method: 'PUT', path: `/load/${key}`, agent: false, headers: { 'content-length': payload.length } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
            res.on('error', () => resolve(null));
          },
        );
        // Refused or reset: never acknowledged, so nothing to check.
        req.on('error', () => resolve(null));
        req.end(payload);
      });
    const worker = async (w: number) => {
      for (let n = 0; n < 2000; n++) {
        const key = `w${w}-${n}`;
        const status = await put(key);
        if (status === null) return;
        if (status !== 200) failures.push(`${key}: ${status}`);
        else {
          acknowledged.push(key);
          if (stopping) answeredWhileStopping++;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    while (acknowledged.length < 100) await new Promise((resolve) => setTimeout(resolve, 10));
    stopping = true;
    const stopStarted = Date.now();
    await withTimeout(smarts3.stop(), 20_000, 'stop() under load');
    const stopTook = Date.now() - stopStarted;
    assert.equal(await canConnect(port), false, 'new connections are refused once stop() returned');
    await withTimeout(Promise.all(workers), 20_000, 'the workers seeing the server gone');
    assert.deepEqual(failures, []);
    console.log(`stop() took ${stopTook} ms under 8 writers; ${answeredWhileStopping} PUTs answered 200 while it drained`);

    // Everything that got 200 is there, whole, after a restart on the same directory.
    const again = await Smarts3.createAndStart(options);
    try {
      const descriptor = await again.getS3Descriptor();
      const client = new S3Client({
        endpoint: `http://127.0.0.1:${descriptor.port}`,
        region: 'us-east-1',
        credentials: { accessKeyId: descriptor.accessKey, secretAccessKey: descriptor.accessSecret },
        forcePathStyle: true,
      });
      const listed = new Set<string>();
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: 'load', ContinuationToken: token }));
        for (const item of page.Contents ?? []) listed.add(item.Key!);
        token = page.NextContinuationToken;
      } while (token);
      assert.deepEqual(acknowledged.filter((key) => !listed.has(key)), [], 'acknowledged PUTs missing after stop');
      for (const key of acknowledged.filter((_, i) => i % 10 === 0)) {
        const got = await client.send(new GetObjectCommand({ Bucket: 'load', Key: key }));
        assert.equal(await got.Body!.transformToString(), body(key), key);
      }
      client.destroy();
    } finally {
      await again.stop();
    }
  });

  it('keeps the v2 options { port, cleanSlate } working and frees the port on stop', async () => {
    const directory = tempDir('v2');
    dirs.push(directory);
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));

    fs.mkdirSync(path.join(directory, 'stale-bucket'), { recursive: true });
    const first = new Smarts3({ port, cleanSlate: true, storage: { directory }, server: { silent: true } });
    await first.start();
    assert.equal((await first.getS3Descriptor()).port, port);
    assert.ok(!fs.existsSync(path.join(directory, 'stale-bucket')), 'cleanSlate emptied the directory');
    await first.stop();
    assert.equal(await canConnect(port), false);
    // The same port is immediately reusable.
    const second = await Smarts3.createAndStart({ port, storage: { directory }, server: { silent: true } });
    assert.equal((await second.getS3Descriptor()).port, port);
    await second.stop();
  });

  it('rejects start() with an Error that names the cause', async () => {
    const directory = tempDir('errors');
    dirs.push(directory);
    const holder = await Smarts3.createAndStart({ server: { port: 0, silent: true }, storage: { directory } });
    try {
      const busyPort = (await holder.getS3Descriptor()).port as number;
      const clashDirectory = tempDir('clash');
      dirs.push(clashDirectory);
      const clash = new Smarts3({ server: { port: busyPort, silent: true }, storage: { directory: clashDirectory } });
      await assert.rejects(clash.start(), /already in use/);
    } finally {
      await holder.stop();
    }

    const aFile = path.join(directory, 'a-file');
    fs.writeFileSync(aFile, 'not a directory');
    const unwritable = new Smarts3({ server: { port: 0, silent: true }, storage: { directory: path.join(aFile, 'sub') } });
    await assert.rejects(unwritable.start(), /storage directory .* is not usable/);

    const previous = process.env.SMARTS3_RUST_BINARY;
    process.env.SMARTS3_RUST_BINARY = path.join(directory, 'no-such-binary');
    try {
      await assert.rejects(
        new Smarts3({ server: { port: 0, silent: true } }).start(),
        /SMARTS3_RUST_BINARY=.*no-such-binary is not an executable rusts3 binary/,
      );
    } finally {
      if (previous === undefined) delete process.env.SMARTS3_RUST_BINARY;
      else process.env.SMARTS3_RUST_BINARY = previous;
    }
  });
});

describe('admin commands', () => {
  it('lists, empties, deletes (with force) and resets while the server keeps serving', async () => {
    const server = await startTestServer('admin');
    const s3 = server.client;
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'admin-a' }));
      await s3.send(new CreateBucketCommand({ Bucket: 'admin-b' }));
      await s3.send(new PutBucketTaggingCommand({ Bucket: 'admin-a', Tagging: { TagSet: [{ Key: 'kept', Value: 'yes' }] } }));
      for (const Key of ['x', 'dir/y', 'dir/deeper/z']) {
        await s3.send(new PutObjectCommand({ Bucket: 'admin-a', Key, Body: Key }));
      }
      await s3.send(new PutObjectCommand({ Bucket: 'admin-b', Key: 'k', Body: 'k' }));
      const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'admin-a', Key: 'pending' }));

      // What code under test reads to build its own client.
      const env = await server.smarts3.env();
      assert.equal(env.AWS_ENDPOINT_URL_S3, server.endpoint);
      assert.equal(env.AWS_ACCESS_KEY_ID, 'S3RVER');
      assert.equal(env.AWS_REGION, 'us-east-1');
      const fromEnv = new S3Client({
        endpoint: env.AWS_ENDPOINT_URL_S3,
        region: env.AWS_REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
      });
      assert.deepEqual((await fromEnv.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name), ['admin-a', 'admin-b']);
      fromEnv.destroy();

      const listed = await server.smarts3.listBuckets();
      assert.deepEqual(listed.map((b) => b.name), ['admin-a', 'admin-b']);
      assert.match(listed[0].creationDate, /^\d{4}-\d\d-\d\dT/);

      const stats = await server.smarts3.getStats();
      const count = (operation: string, status: number) =>
        stats.requests.find((r) => r.operation === operation && r.status === status)?.count ?? 0;
      assert.equal(count('PutObject', 200), 4);
      assert.equal(count('CreateBucket', 200), 2);
      assert.equal(count('ListBuckets', 200), 1);
      assert.ok(stats.uptimeMs >= 0);
      assert.deepEqual(stats.buckets, [
        { name: 'admin-a', creationDate: listed[0].creationDate, objects: 3, bytes: 'x'.length + 'dir/y'.length + 'dir/deeper/z'.length },
        { name: 'admin-b', creationDate: listed[1].creationDate, objects: 1, bytes: 1 },
      ]);

      await server.smarts3.emptyBucket('admin-a');
      assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'admin-a' }))).KeyCount, 0);
      assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'admin-a' }))).Uploads ?? [], []);
      assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: 'admin-a' }))).TagSet, [{ Key: 'kept', Value: 'yes' }]);
      await assert.rejects(s3.send(new UploadPartCommand({ Bucket: 'admin-a', Key: 'pending', UploadId: upload.UploadId, PartNumber: 1, Body: 'x' })));

      await assert.rejects(server.smarts3.deleteBucket('admin-b'), /BucketNotEmpty/);
      await server.smarts3.deleteBucket('admin-b', { force: true });
      await assert.rejects(server.smarts3.deleteBucket('admin-b'), /NoSuchBucket/);
      assert.deepEqual((await server.smarts3.listBuckets()).map((b) => b.name), ['admin-a']);

      await s3.send(new PutObjectCommand({ Bucket: 'admin-a', Key: 'again', Body: 'again' }));
      assert.equal(await server.smarts3.reset(), 1);
      assert.deepEqual(await server.smarts3.listBuckets(), []);
      assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets, []);
      // Still serving after the reset.
      await s3.send(new CreateBucketCommand({ Bucket: 'admin-a' }));
      await s3.send(new PutObjectCommand({ Bucket: 'admin-a', Key: 'fresh', Body: 'fresh' }));
      assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'admin-a' }))).KeyCount, 1);
      assert.deepEqual(fs.readdirSync(path.join(server.directory, '.tmp')), [], 'nothing left aside');
    } finally {
      await server.stop();
    }
  });
});

describe('events and waitForObject', () => {
  it('streams object and bucket changes once somebody listens, and waits for objects', async () => {
    const server = await startTestServer('events');
    const s3 = server.client;
    try {
      const seen: { name: string; data: any }[] = [];
      for (const name of ['objectCreated', 'multipartCompleted', 'objectRemoved', 'bucketCreated', 'bucketRemoved']) {
        server.smarts3.on(name, (data) => seen.push({ name, data }));
      }
      const next = (name: string, key?: string) =>
        new Promise<any>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ${name} event for ${key}`)), 10_000);
          const listener = (data: any) => {
            if (key !== undefined && data.key !== key) return;
            clearTimeout(timer);
            server.smarts3.off(name, listener);
            resolve(data);
          };
          server.smarts3.on(name, listener);
        });
      // The subscription is asynchronous; a bucket event proves it is in place.
      const bucketCreated = next('bucketCreated');
      await s3.send(new CreateBucketCommand({ Bucket: 'events' }));
      assert.equal((await bucketCreated).bucket, 'events');

      const created = next('objectCreated', 'a.txt');
      const put = await s3.send(new PutObjectCommand({ Bucket: 'events', Key: 'a.txt', Body: 'hello' }));
      const event = await created;
      assert.deepEqual(
        [event.bucket, event.key, event.size, `"${event.etag}"`, event.versionId, event.operation, event.requester],
        ['events', 'a.txt', 5, put.ETag, null, 'PutObject', null],
      );
      assert.match(event.time, /^\d{4}-\d\d-\d\dT/);

      const completed = next('multipartCompleted', 'big');
      const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'events', Key: 'big' }));
      const part = await s3.send(new UploadPartCommand({ Bucket: 'events', Key: 'big', UploadId: upload.UploadId, PartNumber: 1, Body: 'part one' }));
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'events', Key: 'big', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
      const completion = await completed;
      assert.deepEqual([completion.size, completion.operation], [8, 'CompleteMultipartUpload']);

      const removed = next('objectRemoved', 'a.txt');
      await s3.send(new DeleteObjectCommand({ Bucket: 'events', Key: 'a.txt' }));
      assert.equal((await removed).bucket, 'events');

      // waitForObject: at once for what exists, later for what comes, an error when time is up.
      assert.equal((await server.smarts3.waitForObject('events', 'big')).size, 8);
      const waiting = server.smarts3.waitForObject('events', 'later.txt', { timeoutMs: 10_000 });
      await s3.send(new PutObjectCommand({ Bucket: 'events', Key: 'later.txt', Body: 'eventually' }));
      assert.deepEqual(await waiting, { bucket: 'events', key: 'later.txt', size: 10 });
      await assert.rejects(server.smarts3.waitForObject('events', 'never.txt', { timeoutMs: 300 }), /never\.txt did not appear within 300 ms/);

      await s3.send(new DeleteObjectCommand({ Bucket: 'events', Key: 'big' }));
      await s3.send(new DeleteObjectCommand({ Bucket: 'events', Key: 'later.txt' }));
      const bucketRemoved = next('bucketRemoved');
      await s3.send(new DeleteBucketCommand({ Bucket: 'events' }));
      assert.equal((await bucketRemoved).bucket, 'events');
      const names = seen.map((e) => e.name);
      for (const name of ['bucketCreated', 'objectCreated', 'multipartCompleted', 'objectRemoved', 'bucketRemoved']) {
        assert.ok(names.includes(name), `${name} was emitted`);
      }
    } finally {
      await server.stop();
    }
  });
});

describe('events say which version, which operation and whose request', () => {
  it('carries version ids in a versioned bucket, the signer, and admin commands as the cause', async () => {
    const server = await startTestServer('events-cause', {
      auth: { enabled: true, credentials: [{ accessKeyId: 'EVENTKEY', secretAccessKey: 'event-secret' }] },
    });
    const s3 = server.client;
    try {
      const seen: { name: string; data: any }[] = [];
      for (const name of ['objectCreated', 'objectRemoved', 'bucketCreated', 'bucketRemoved']) {
        server.smarts3.on(name, (data) => seen.push({ name, data }));
      }
      const when = async (what: string, holds: () => boolean) => {
        const deadline = Date.now() + 10_000;
        while (!holds()) {
          if (Date.now() > deadline) assert.fail(`no ${what} event: ${JSON.stringify(seen)}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      // The subscription is asynchronous: a command answered after it proves it is in place.
      await server.smarts3.listBuckets();
      await s3.send(new CreateBucketCommand({ Bucket: 'cause' }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: 'cause', VersioningConfiguration: { Status: 'Enabled' } }));
      const put = await s3.send(new PutObjectCommand({ Bucket: 'cause', Key: 'k', Body: 'v1' }));
      const deleted = await s3.send(new DeleteObjectCommand({ Bucket: 'cause', Key: 'k' }));
      await server.smarts3.deleteBucket('cause', { force: true });
      const pick = (name: string, key?: string) => seen.filter((e) => e.name === name && (key === undefined || e.data.key === key)).map((e) => e.data);
      await when('bucketRemoved', () => pick('bucketRemoved').length > 0);
      const [bucket] = pick('bucketCreated');
      assert.deepEqual([bucket.operation, bucket.requester], ['CreateBucket', 'EVENTKEY']);
      const [created] = pick('objectCreated', 'k');
      assert.deepEqual([created.versionId, created.operation, created.requester], [put.VersionId, 'PutObject', 'EVENTKEY']);
      const [marker] = pick('objectRemoved', 'k');
      assert.deepEqual([marker.versionId, marker.operation, marker.requester], [deleted.VersionId, 'DeleteObject', 'EVENTKEY']);
      const [removed] = pick('bucketRemoved');
      assert.deepEqual([removed.bucket, removed.operation, removed.requester], ['cause', 'deleteBucket', null]);
    } finally {
      await server.stop();
    }
  });
});

describe('a server process that dies', () => {
  it('fails pending and later calls with how it died, and can be started again', async () => {
    const directory = tempDir('dies');
    const smarts3 = await Smarts3.createAndStart({ server: { port: 0, silent: true }, storage: { directory } });
    try {
      const pid = smarts3.getServerInfo().pid;
      const pending = smarts3.waitForObject('nobucket', 'k', { timeoutMs: 20_000 });
      process.kill(pid, 'SIGKILL');
      await assert.rejects(pending, /waitForObject failed: the server process \(pid \d+\) was killed by SIGKILL/);
      await assert.rejects(smarts3.listBuckets(), /smarts3 is not running: the server process \(pid \d+\) was killed by SIGKILL/);
      await smarts3.start();
      assert.notEqual(smarts3.getServerInfo().pid, pid);
      assert.deepEqual(await smarts3.listBuckets(), []);
    } finally {
      await smarts3.stop();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('the request log', () => {
  it('keeps the recent requests, in order, bounded, and pages with since', async () => {
    const server = await startTestServer('requests', { logging: { requestHistory: 3 } });
    const s3 = server.client;
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'logged' }));
      await s3.send(new PutObjectCommand({ Bucket: 'logged', Key: 'a/b.txt', Body: 'x' }));
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'logged', Key: 'missing' })));
      await s3.send(new ListObjectsV2Command({ Bucket: 'logged' }));
      const kept = await server.smarts3.getRequests();
      assert.deepEqual(
        kept.map((r) => [r.method, r.operation, r.bucket, r.key, r.status, r.errorCode]),
        [
          ['PUT', 'PutObject', 'logged', 'a/b.txt', 200, null],
          ['GET', 'GetObject', 'logged', 'missing', 404, 'NoSuchKey'],
          ['GET', 'ListObjectsV2', 'logged', null, 200, null],
        ],
        'the oldest (CreateBucket) fell out of a history of 3',
      );
      assert.deepEqual(kept.map((r) => r.seq), [2, 3, 4]);
      assert.match(kept[0].requestId, /^[0-9A-F]{16}$/);
      assert.ok(kept.every((r) => r.durationMs >= 0 && /^\d{4}-/.test(r.time)));
      assert.deepEqual((await server.smarts3.getRequests({ since: 3 })).map((r) => r.operation), ['ListObjectsV2']);
    } finally {
      await server.stop();
    }
  });
});
