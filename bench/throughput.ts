// Throughput benchmark for many small requests, as test suites make them: PUT, HEAD, GET and
// DELETE of small objects and paged listings, through the AWS SDK v3 with N requests in flight.
// Run: npx tsx bench/throughput.ts [objects=2000] [concurrency=16] [sizeBytes=1024]
// Prints requests per second per operation. Compare ratios within one run, not across machines.
import * as crypto from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { startTestServer } from '../test/helpers.js';

const objects = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);
const size = Number(process.argv[4] ?? 1024);

const server = await startTestServer('bench-throughput');
const s3 = server.client;
const body = crypto.randomBytes(size);
const keys = Array.from({ length: objects }, (_, i) => `dir${i % 20}/object-${String(i).padStart(6, '0')}`);

/** Runs `task` for every key with `concurrency` in flight; returns requests per second. */
async function measure(task: (key: string) => Promise<unknown>): Promise<number> {
  const queue = [...keys];
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) await task(key);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return keys.length / seconds;
}

try {
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const results: [string, number][] = [];
  results.push(['PUT', await measure((Key) => s3.send(new PutObjectCommand({ Bucket: 'bench', Key, Body: body })))]);
  results.push(['HEAD', await measure((Key) => s3.send(new HeadObjectCommand({ Bucket: 'bench', Key })))]);
  results.push([
    'GET',
    await measure(async (Key) => (await s3.send(new GetObjectCommand({ Bucket: 'bench', Key }))).Body!.transformToByteArray()),
  ]);
  const listStarted = process.hrtime.bigint();
  let pages = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'bench', MaxKeys: 1000, ContinuationToken: token }));
    token = page.NextContinuationToken;
    pages++;
  } while (token);
  results.push(['LIST (pages of 1000)', pages / (Number(process.hrtime.bigint() - listStarted) / 1e9)]);
  results.push(['DELETE', await measure((Key) => s3.send(new DeleteObjectCommand({ Bucket: 'bench', Key })))]);

  console.log(`${objects} objects of ${size} bytes, ${concurrency} requests in flight`);
  for (const [name, perSecond] of results) console.log(`  ${name.padEnd(22)} ${perSecond.toFixed(0).padStart(7)} req/s`);
} finally {
  await server.stop();
}
