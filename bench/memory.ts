// Memory benchmark: a large upload and a GET of the whole object through the AWS SDK v3 while
// sampling the server process's resident memory from /proc. Run:
//   npx tsx bench/memory.ts [sizeMiB=1024] [put|multipart]
// `multipart` uploads with @aws-sdk/lib-storage, 64 MiB parts, 8 parts in flight.
// Prints peak RSS (sampled every 20 ms) and the kernel's high-water mark (VmHWM).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startTestServer } from '../test/helpers.js';

const sizeMiB = Number(process.argv[2] ?? 1024);
const mode = process.argv[3] ?? 'put';
const size = sizeMiB * 1024 * 1024;

function serverPid(): number {
  // The newest rusts3 child of this process.
  const children = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/);
  const pid = children.map(Number).reverse().find((p) => fs.readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('rusts3'));
  if (!pid) throw new Error('rusts3 child process not found');
  return pid;
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024; // MiB
}

const server = await startTestServer('bench-memory');
const pid = serverPid();
const idleRss = status(pid, 'VmRSS');
let peakRss = idleRss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, status(pid, 'VmRSS'));
}, 20);

try {
  await server.client.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const chunk = crypto.randomBytes(1024 * 1024);
  const upHash = crypto.createHash('md5');
  const body = Readable.from(
    (function* () {
      for (let sent = 0; sent < size; sent += chunk.length) {
        upHash.update(chunk);
        yield chunk;
      }
    })(),
  );
  let started = Date.now();
  if (mode === 'multipart') {
    const upload = new Upload({
      client: server.client,
      params: { Bucket: 'bench', Key: 'big', Body: body },
      partSize: 64 * 1024 * 1024,
      queueSize: 8,
    });
    await upload.done();
  } else {
    await server.client.send(new PutObjectCommand({ Bucket: 'bench', Key: 'big', Body: body, ContentLength: size }));
  }
  const putSeconds = (Date.now() - started) / 1000;
  const putPeak = peakRss;

  started = Date.now();
  const get = await server.client.send(new GetObjectCommand({ Bucket: 'bench', Key: 'big' }));
  const downHash = crypto.createHash('md5');
  for await (const part of get.Body as Readable) downHash.update(part);
  const getSeconds = (Date.now() - started) / 1000;
  if (downHash.digest('hex') !== upHash.digest('hex')) throw new Error('downloaded bytes differ');

  console.log(`object size:         ${sizeMiB} MiB (${mode})`);
  console.log(`server RSS idle:      ${idleRss.toFixed(1)} MiB`);
  console.log(`server RSS peak up:    ${putPeak.toFixed(1)} MiB   (${(sizeMiB / putSeconds).toFixed(0)} MiB/s)`);
  console.log(`server RSS peak all:  ${peakRss.toFixed(1)} MiB   (GET ${(sizeMiB / getSeconds).toFixed(0)} MiB/s)`);
  console.log(`server VmHWM:         ${status(pid, 'VmHWM').toFixed(1)} MiB`);
} finally {
  clearInterval(sampler);
  await server.stop();
}
