// SmartBucket (@push.rocks/smartbucket) against the real server, connected through getS3Descriptor().
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as smartbucket from '@push.rocks/smartbucket';
import { Smarts3 } from '../ts/index.js';
import { storedObject, tempDir } from './helpers.js';

describe('SmartBucket through getS3Descriptor()', () => {
  let smarts3: Smarts3;
  let directory: string;

  before(async () => {
    directory = tempDir('smartbucket');
    smarts3 = await Smarts3.createAndStart({ server: { port: 0, silent: true }, storage: { directory, cleanSlate: true } });
  });

  after(async () => {
    await smarts3?.stop();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it('creates buckets, puts, gets, lists and deletes files', async () => {
    const bucket = await smarts3.createBucket('smartbucket-test');
    assert.equal(bucket.name, 'smartbucket-test');

    // A second SmartBucket instance built only from the descriptor sees the same bucket.
    const client = new smartbucket.SmartBucket(await smarts3.getS3Descriptor());
    const same = await client.getBucketByName('smartbucket-test');
    assert.equal(same.name, 'smartbucket-test');

    await bucket.fastPut({ path: 'hello.txt', contents: 'hello smartbucket' });
    await bucket.fastPut({ path: 'nested/dir/data.bin', contents: Buffer.from([0, 1, 2, 250, 255]) });
    assert.equal((await same.fastGet({ path: 'hello.txt' })).toString(), 'hello smartbucket');
    assert.deepEqual([...(await same.fastGet({ path: 'nested/dir/data.bin' }))], [0, 1, 2, 250, 255]);
    assert.equal(await same.fastExists({ path: 'hello.txt' }), true);
    assert.equal(await same.fastExists({ path: 'nope.txt' }), false);

    const base = await same.getBaseDirectory();
    const files = await base.listFiles();
    assert.deepEqual(files.map((f) => f.name), ['hello.txt']);
    const dirs = await base.listDirectories();
    assert.deepEqual(dirs.map((d) => d.name), ['nested']);

    const stat = await same.fastStat({ path: 'hello.txt' });
    assert.equal(stat.ContentLength, 'hello smartbucket'.length);
    const magic = await same.getMagicBytes({ path: 'hello.txt', length: 5 });
    assert.equal(magic.toString(), 'hello');

    await same.fastRemove({ path: 'hello.txt' });
    assert.equal(await same.fastExists({ path: 'hello.txt' }), false);
    assert.equal(storedObject(directory, 'smartbucket-test', 'hello.txt'), undefined);
    assert.ok(fs.existsSync(storedObject(directory, 'smartbucket-test', 'nested/dir/data.bin')!.dataPath));
  });
});
