// Interoperability with a second, independent S3 client: minio-js (its own signing, XML parsing
// and multipart logic), against the same server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { Readable } from 'node:stream';
import * as Minio from 'minio';
import { startTestServer, type ITestServer } from './helpers.js';

let server: ITestServer;
let minio: Minio.Client;

before(async () => {
  server = await startTestServer('interop');
  const d = await server.smarts3.getS3Descriptor();
  minio = new Minio.Client({
    endPoint: d.endpoint,
    port: Number(d.port),
    useSSL: false,
    accessKey: d.accessKey,
    secretKey: d.accessSecret,
    region: d.region,
    pathStyle: true,
    // S3's minimum, so a 12 MiB upload goes in parts.
    partSize: 5 * 1024 * 1024,
  });
});
after(async () => server?.stop());

async function collect<T>(stream: NodeJS.ReadableStream): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream as AsyncIterable<T>) items.push(item);
  return items;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('minio-js', () => {
  it('creates and lists buckets', async () => {
    await minio.makeBucket('minio-interop', 'us-east-1');
    assert.equal(await minio.bucketExists('minio-interop'), true);
    assert.equal(await minio.bucketExists('minio-missing'), false);
    const buckets = await minio.listBuckets();
    assert.ok(buckets.some((b) => b.name === 'minio-interop'));
  });

  it('puts, stats, gets, ranges and removes objects', async () => {
    const info = await minio.putObject('minio-interop', 'dir/hello.txt', Buffer.from('hello minio'), 11, {
      'Content-Type': 'text/plain',
      'X-Amz-Meta-Origin': 'minio',
    });
    assert.equal(info.etag, crypto.createHash('md5').update('hello minio').digest('hex'));
    const stat = await minio.statObject('minio-interop', 'dir/hello.txt');
    assert.equal(stat.size, 11);
    assert.equal(stat.metaData['content-type'], 'text/plain');
    assert.equal(stat.metaData.origin, 'minio');
    assert.equal((await readAll(await minio.getObject('minio-interop', 'dir/hello.txt'))).toString(), 'hello minio');
    assert.equal((await readAll(await minio.getPartialObject('minio-interop', 'dir/hello.txt', 6, 5))).toString(), 'minio');
    await minio.removeObject('minio-interop', 'dir/hello.txt');
    await assert.rejects(minio.statObject('minio-interop', 'dir/hello.txt'), (e: any) => e.code === 'NotFound');
  });

  it('lists with prefixes and recursion (ListObjectsV2)', async () => {
    for (const name of ['l/a', 'l/b/c', 'l/b/d', 'l/e f+g']) {
      await minio.putObject('minio-interop', name, Buffer.from(name));
    }
    const flat = await collect<any>(minio.listObjectsV2('minio-interop', 'l/', false));
    // minio-js yields a page's objects before its prefixes.
    assert.deepEqual(flat.map((o) => o.name ?? o.prefix), ['l/a', 'l/e f+g', 'l/b/']);
    const deep = await collect<any>(minio.listObjectsV2('minio-interop', 'l/', true));
    assert.deepEqual(deep.map((o) => o.name), ['l/a', 'l/b/c', 'l/b/d', 'l/e f+g']);
    const v1 = await collect<any>(minio.listObjects('minio-interop', 'l/b/', true));
    assert.deepEqual(v1.map((o) => o.name), ['l/b/c', 'l/b/d']);
  });

  it('uploads a large stream with its own multipart logic', async () => {
    const data = crypto.randomBytes(12 * 1024 * 1024 + 12345);
    await minio.putObject('minio-interop', 'big.bin', Readable.from([data]), data.length);
    const stat = await minio.statObject('minio-interop', 'big.bin');
    assert.equal(stat.size, data.length);
    assert.match(stat.etag, /-\d+$/, 'uploaded in parts');
    const back = await readAll(await minio.getObject('minio-interop', 'big.bin'));
    assert.equal(crypto.createHash('sha256').update(back).digest('hex'), crypto.createHash('sha256').update(data).digest('hex'));
  });

  it('copies, tags and bulk-removes objects', async () => {
    await minio.putObject('minio-interop', 'orig', Buffer.from('original'));
    const conditions = new Minio.CopyConditions();
    await minio.copyObject('minio-interop', 'copied', '/minio-interop/orig', conditions);
    assert.equal((await readAll(await minio.getObject('minio-interop', 'copied'))).toString(), 'original');
    await minio.setObjectTagging('minio-interop', 'copied', { colour: 'blue' });
    const tags = await minio.getObjectTagging('minio-interop', 'copied');
    assert.deepEqual(tags.map((t: any) => [t.Key, t.Value]), [['colour', 'blue']]);
    await minio.removeObjects('minio-interop', ['orig', 'copied', 'missing']);
    const left = (await collect<any>(minio.listObjectsV2('minio-interop', '', true))).map((o) => o.name);
    assert.ok(!left.includes('orig') && !left.includes('copied'), `still listed: ${left.join(', ')}`);
    for (const name of ['orig', 'copied']) {
      await assert.rejects(minio.statObject('minio-interop', name), (e: any) => e.code === 'NotFound', name);
    }
  });

  it('gets presigned URLs that plain fetch can use (auth off accepts them)', async () => {
    await minio.putObject('minio-interop', 'presigned', Buffer.from('via url'));
    const url = await minio.presignedGetObject('minio-interop', 'presigned', 60);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'via url');
  });
});
