// Node start-up: from spawning a `node` process to its first answered request (importing the
// package, starting the server, one GET /), and how long stopping it takes. For smarts3 the
// built package (dist_ts) on the benchmark's release binary; for v2 the published package
// (2.2.7) imported as users import it, and its s3rver started as its start() does, except on
// 127.0.0.1 and a free port (v2 binds 0.0.0.0:3000).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './servers.js';

export interface StartupResult {
  /** Median over the rounds: spawn → first answer, as the parent saw it. */
  firstAnswerMs: number;
  /** Median of the child's own measure of stopping the server. */
  stopMs: number;
}

/**
 * A child that runs `start` (which leaves the server in `s3` and its port in `port`), answers
 * one GET / on that port, says so, runs `stop` and prints how long that took.
 */
function script(start: string, stop: string): string {
  return `import * as http from 'node:http';
${start}
await new Promise((resolve, reject) => {
  const req = http.get({ host: '127.0.0.1', port, path: '/' }, (res) => { res.resume(); res.on('end', resolve); });
  req.on('error', reject);
});
process.stdout.write('answered\\n');
const t = performance.now();
${stop}
process.stdout.write(JSON.stringify({ stopMs: performance.now() - t }) + '\\n');`;
}

function childScript(server: 'smarts3' | 'v2', v2Dir?: string): string {
  const url = (file: string) => JSON.stringify(pathToFileURL(file).href);
  if (server === 'smarts3') {
    return script(
      `const { Smarts3 } = await import(${url(path.join(root, 'dist_ts', 'index.js'))});
const s3 = await Smarts3.createAndStart({ server: { address: '127.0.0.1', port: 0, silent: true }, storage: { directory: process.argv[1] } });
const port = s3.getServerInfo().port;`,
      'await s3.stop();',
    );
  }
  const v2 = path.join(v2Dir!, 'node_modules', '@push.rocks', 'smarts3', 'dist_ts');
  return script(
    `await import(${url(path.join(v2, 'index.js'))});
const plugins = await import(${url(path.join(v2, 'plugins.js'))});
const s3 = new plugins.s3rver({ address: '127.0.0.1', port: 0, directory: process.argv[1], silent: true });
const { port } = await s3.run();`,
    'await s3.close();',
  );
}

function oneRound(script: string, env: NodeJS.ProcessEnv): Promise<{ firstAnswerMs: number; stopMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-startup-'));
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstAnswerMs = 0;
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk) => {
      if (!firstAnswerMs && String(chunk).startsWith('answered')) {
        firstAnswerMs = Number(process.hrtime.bigint() - started) / 1e6;
      }
      out += chunk;
    });
    child.stderr.on('data', (chunk) => (err = (err + chunk).slice(-2000)));
    child.on('exit', (code) => {
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !firstAnswerMs || !last.startsWith('{')) {
        reject(new Error(`start-up round exited with ${code}: ${err || out}`));
        return;
      }
      resolve({ firstAnswerMs, stopMs: (JSON.parse(last) as { stopMs: number }).stopMs });
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function measureStartup(
  server: 'smarts3' | 'v2',
  rounds: number,
  options: { binary?: string; v2Dir?: string } = {},
): Promise<StartupResult> {
  const script = childScript(server, options.v2Dir);
  const env = { ...process.env, ...(options.binary ? { SMARTS3_RUST_BINARY: options.binary } : {}) };
  const results = [];
  for (let i = 0; i < rounds; i++) results.push(await oneRound(script, env));
  return { firstAnswerMs: median(results.map((r) => r.firstAnswerMs)), stopMs: median(results.map((r) => r.stopMs)) };
}
