// The servers the benchmark compares, each installed when missing and started on 127.0.0.1 with
// a fresh directory: smarts3 (this checkout's binary), s3s-fs (Rust), s3rver (npm; v2's engine)
// and nginx (static files + WebDAV PUT/DELETE: what the machine serves without S3 semantics).
// Peers are installed into .nogit/bench-peers, never into the project.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const peers = path.join(root, '.nogit', 'bench-peers');

export interface RunningPeer {
  name: string;
  /** Speaks S3 (nginx only stores and serves files). */
  s3: boolean;
  endpoint: string;
  accessKey: string;
  secretKey: string;
  dataDir: string;
  /** The process whose tree's CPU and memory are measured. */
  pid: number;
  stop(): Promise<void>;
}

function run(command: string, args: string[], options: { cwd?: string } = {}) {
  console.error(`$ ${command} ${args.join(' ')}`);
  execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: options.cwd ?? root });
}

function commandPath(command: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The load generator; `debug` reuses what `cargo test` built (the quick run only checks it works). */
export function ensureLoadgen(profile: 'release' | 'debug'): string {
  const release = profile === 'release' ? ['--release'] : [];
  run('cargo', ['build', ...release, '--quiet', '--example', 'loadgen', '--manifest-path', 'rust/Cargo.toml']);
  return path.join(root, 'rust', 'target', profile, 'examples', 'loadgen');
}

export function ensureSmarts3(): string {
  run('cargo', ['build', '--release', '--quiet', '--bin', 'rusts3', '--manifest-path', 'rust/Cargo.toml']);
  return path.join(root, 'rust', 'target', 'release', 'rusts3');
}

function ensureS3sFs(): string {
  const binary = path.join(peers, 'bin', 's3s-fs');
  if (!fs.existsSync(binary)) {
    // 0.14.1 is the newest release that builds with this toolchain.
    run('cargo', ['install', '--quiet', '--root', peers, 's3s-fs@0.14.1', '--features', 'binary']);
  }
  return binary;
}

/** Installs an npm package into `prefix`, quietly and without touching the project. */
function npmInstall(prefix: string, spec: string): void {
  run('npm', ['install', '--silent', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, spec]);
}

function ensureS3rver(): string {
  const entry = path.join(peers, 'node_modules', 's3rver');
  if (!fs.existsSync(entry)) {
    fs.mkdirSync(peers, { recursive: true });
    npmInstall(peers, 's3rver@3');
  }
  return entry;
}

/** smarts3 v2 as published (s3rver inside), for the start-up comparison; returns its prefix. */
export function ensureSmarts3V2(): string {
  const prefix = path.join(peers, 'v2');
  if (!fs.existsSync(path.join(prefix, 'node_modules', '@push.rocks', 'smarts3'))) {
    fs.mkdirSync(prefix, { recursive: true });
    npmInstall(prefix, '@push.rocks/smarts3@2.2.7');
  }
  return prefix;
}

function ensureNginx(): string {
  const found = commandPath('nginx') ?? (fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error('nginx is missing and installing it needs root (apt-get)');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', 'nginx-light']);
  return '/usr/sbin/nginx';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port} within 30 s`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

export async function launch(
  name: string,
  s3: boolean,
  command: string,
  args: (port: number, dataDir: string) => string[],
  credentials = { accessKey: KEY, secretKey: SECRET },
): Promise<RunningPeer> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  const child = spawn(command, args(port, dataDir), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  try {
    await waitForPort(port, child, name);
  } catch (error) {
    await stopChild(child);
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    name,
    s3,
    endpoint: `127.0.0.1:${port}`,
    ...credentials,
    dataDir,
    pid: child.pid!,
    async stop() {
      await stopChild(child);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type PeerName = 'smarts3' | 's3s-fs' | 's3rver' | 'nginx';
export const PEERS: PeerName[] = ['smarts3', 's3s-fs', 's3rver', 'nginx'];

/** Installs what `name` needs and returns a function that starts a fresh instance of it. */
export function prepare(name: PeerName): () => Promise<RunningPeer> {
  switch (name) {
    case 'smarts3': {
      const binary = ensureSmarts3();
      return () =>
        launch('smarts3', true, binary, (port, dir) => {
          const config = path.join(dir, '..', `${path.basename(dir)}.json`);
          fs.writeFileSync(
            config,
            JSON.stringify({
              auth: { enabled: true, credentials: [{ accessKeyId: KEY, secretAccessKey: SECRET }] },
              logging: { level: 'error' },
            }),
          );
          return ['serve', '--config', config, '--address', '127.0.0.1', '--port', String(port), '--directory', dir];
        });
    }
    case 's3s-fs': {
      const binary = ensureS3sFs();
      return () =>
        launch('s3s-fs', true, binary, (port, dir) => [
          '--host', '127.0.0.1', '--port', String(port), '--access-key', KEY, '--secret-key', SECRET, dir,
        ]);
    }
    case 's3rver': {
      const entry = ensureS3rver();
      // s3rver checks signatures against its fixed S3RVER/S3RVER pair.
      const script = `const S3rver = require(${JSON.stringify(entry)});
        new S3rver({ address: '127.0.0.1', port: Number(process.argv[1]), directory: process.argv[2], silent: true }).run();`;
      return () =>
        launch('s3rver', true, process.execPath, (port, dir) => ['-e', script, String(port), dir], {
          accessKey: 'S3RVER',
          secretKey: 'S3RVER',
        });
    }
    case 'nginx': {
      const binary = ensureNginx();
      return () =>
        launch('nginx', false, binary, (port, dir) => {
          const conf = path.join(dir, '..', `${path.basename(dir)}.conf`);
          const temp = `${dir}.tmp`;
          fs.mkdirSync(temp, { recursive: true });
          fs.writeFileSync(
            conf,
            `daemon off;
worker_processes auto;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${dir}.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path ${temp};
  server {
    listen 127.0.0.1:${port};
    root ${dir};
    location / {
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 0;
    }
  }
}
`,
          );
          return ['-c', conf, '-p', dir];
        });
    }
  }
}
