// Shared set-up for the end-to-end suites: a real rusts3 server through Smarts3 on 127.0.0.1,
// port 0, in a fresh temporary directory, and an AWS SDK v3 client with default settings.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Smarts3 } from '../ts/index.js';
import type { TSmarts3Options } from '../ts/index.js';

export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `smarts3-${label}-`));
}

export interface ITestServer {
  smarts3: Smarts3;
  client: S3Client;
  endpoint: string;
  directory: string;
  stop: () => Promise<void>;
}

export async function startTestServer(label: string, options: TSmarts3Options = {}): Promise<ITestServer> {
  const directory = options.storage?.directory ?? tempDir(label);
  const smarts3 = await Smarts3.createAndStart({
    ...options,
    server: { port: 0, silent: true, ...options.server },
    storage: { directory, cleanSlate: true, ...options.storage },
  });
  const descriptor = await smarts3.getS3Descriptor();
  const endpoint = `http://${descriptor.endpoint}:${descriptor.port}`;
  const client = new S3Client({
    endpoint,
    region: descriptor.region ?? 'us-east-1',
    credentials: { accessKeyId: descriptor.accessKey, secretAccessKey: descriptor.accessSecret },
    forcePathStyle: true,
  });
  return {
    smarts3,
    client,
    endpoint,
    directory,
    stop: async () => {
      client.destroy();
      await smarts3.stop();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Every file below `dir`, relative, sorted. */
export function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

let bucketCounter = 0;
/** A bucket name unique within this process. */
export function uniqueBucket(prefix = 'bkt'): string {
  return `${prefix}-${process.pid}-${++bucketCounter}`;
}

/** The S3 error a request rejects with; fails the test if it resolves. */
export async function s3Error(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof S3ServiceException, `expected an S3 error, got ${error}`);
    return error;
  }
  assert.fail('expected the request to fail');
}

/**
 * Resolves once `holds(entries of dir)` is true, re-checking on every change the file system
 * reports in `dir` (no sleeps); rejects after `timeoutMs` saying what did not happen.
 */
export function whenDirectory(dir: string, holds: (entries: string[]) => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!holds(fs.readdirSync(dir))) return false;
      finish();
      resolve();
      return true;
    };
    const watcher = fs.watch(dir, () => check());
    const timer = setTimeout(() => {
      finish();
      if (!check()) reject(new Error(`${what} did not happen within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      watcher.close();
    };
    check();
  });
}

/** What the server stored for a plain key (no segment that needs escaping): its version record
 * and the path of its data file, per the layout in readme.hints.md; undefined when absent. */
export function storedObject(directory: string, bucket: string, key: string): { record: any; dataPath: string } | undefined {
  const segments = key.split('/');
  const dir = path.join(directory, bucket, ...segments.slice(0, -1));
  const recordPath = path.join(dir, `${segments[segments.length - 1]}._S3_key.json`);
  if (!fs.existsSync(recordPath)) return undefined;
  const record = JSON.parse(fs.readFileSync(recordPath, 'utf8'));
  return { record, dataPath: path.join(dir, record.data) };
}
