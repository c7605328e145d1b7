// The linux_arm64 binary works: it answers --version, starts in management mode through
// Smarts3, and serves a PUT and a GET. On other hosts it runs under Debian's qemu-user.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startTestServer, tempDir } from './helpers.js';

const binary = path.join(import.meta.dirname, '..', 'dist_rust', 'rusts3_linux_arm64');
const nativeArm = process.arch === 'arm64';
/** The arm64 C library qemu-user needs (Debian's libc6-arm64-cross, pulled in by the cross linker). */
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const work = tempDir('arm64');
after(() => fs.rmSync(work, { recursive: true, force: true }));

function command(args: string[]): [string, string[]] {
  return nativeArm ? [binary, args] : ['qemu-aarch64', ['-L', ARM64_SYSROOT, binary, ...args]];
}

describe('the linux_arm64 binary', () => {
  it('is an aarch64 executable that answers --version', () => {
    const header = fs.readFileSync(binary).subarray(0, 20);
    assert.equal(header.toString('latin1', 1, 4), 'ELF');
    assert.equal(header.readUInt16LE(18), 183, 'e_machine is EM_AARCH64');
    assert.ok(fs.statSync(binary).mode & 0o111, 'it is executable');
    const [cmd, args] = command(['--version']);
    const version = childProcess.execFileSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
    assert.match(version.trim(), /^rusts3 \d+\.\d+\.\d+$/);
  });

  it('starts in management mode through Smarts3 and serves a PUT and a GET', async () => {
    const [cmd, args] = command([]);
    const wrapper = path.join(work, 'rusts3-arm64');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${[cmd, ...args].map((a) => `'${a}'`).join(' ')} "$@"\n`, { mode: 0o755 });
    const previous = process.env.SMARTS3_RUST_BINARY;
    process.env.SMARTS3_RUST_BINARY = wrapper;
    try {
      const server = await startTestServer('arm64');
      try {
        await server.client.send(new CreateBucketCommand({ Bucket: 'arm' }));
        await server.client.send(new PutObjectCommand({ Bucket: 'arm', Key: 'hello.txt', Body: 'served by aarch64' }));
        const get = await server.client.send(new GetObjectCommand({ Bucket: 'arm', Key: 'hello.txt' }));
        assert.equal(await get.Body!.transformToString(), 'served by aarch64');
      } finally {
        await server.stop();
      }
    } finally {
      if (previous === undefined) delete process.env.SMARTS3_RUST_BINARY;
      else process.env.SMARTS3_RUST_BINARY = previous;
    }
  });
});
