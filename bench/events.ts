// What events and the request-record stream cost: smarts3 started through its Node wrapper
// twice, one instance that nobody listens to and one with listeners on `objectCreated` and
// `request`, beside a bare `rusts3 serve` that keeps no request records, loaded in rotating
// rounds with the same PUT load. The listening instance sends
// two events per PUT over IPC, which this process reads while the load runs (the load
// generator runs as an asynchronous child, so this process's event loop stays free).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuSeconds } from './proc.js';
import { launch, root } from './servers.js';

export interface EventsCostResult {
  /** Median over the rounds. */
  opsPerSec: number;
  cpuUsPerOp: number;
  p50Us: number;
  p99Us: number;
  eventsSeen: number;
}

function runLoad(loadgen: string, args: string[]): Promise<{ ops: number; opsPerSec: number; p50Us: number; p99Us: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(loadgen, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`loadgen ${args.join(' ')} exited with ${code}: ${err}`));
      else resolve(JSON.parse(last));
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** A server under load: where it listens and which process does its work. */
interface Subject {
  endpoint: string;
  pid: number;
}

export async function measureEventsCost(
  loadgen: string,
  options: { binary: string; rounds: number; seconds: number; count: number },
): Promise<{ bare: EventsCostResult; quiet: EventsCostResult; listened: EventsCostResult }> {
  process.env.SMARTS3_RUST_BINARY = options.binary;
  const { Smarts3 } = await import(pathToFileURL(path.join(root, 'dist_ts', 'index.js')).href);
  const dirs: string[] = [];
  const start = async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-events-'));
    dirs.push(directory);
    return Smarts3.createAndStart({ server: { address: '127.0.0.1', port: 0, silent: true }, storage: { directory }, logging: { level: 'error' } });
  };
  const wrapped = (s3: any): Subject => ({ endpoint: `127.0.0.1:${s3.getServerInfo().port}`, pid: s3.getServerInfo().pid });
  // The baseline: `rusts3 serve`, no wrapper, no IPC, no request records kept.
  const bareServer = await launch('smarts3-bare', true, options.binary, (port, dir) => {
    const config = path.join(dir, '..', `${path.basename(dir)}.json`);
    fs.writeFileSync(config, JSON.stringify({ logging: { level: 'error', requestHistory: 0 } }));
    dirs.push(config);
    return ['serve', '--config', config, '--address', '127.0.0.1', '--port', String(port), '--directory', dir];
  });
  const quietServer = await start();
  const listenedServer = await start();
  let eventsSeen = 0;
  listenedServer.on('objectCreated', () => eventsSeen++);
  listenedServer.on('request', () => eventsSeen++);
  const bare: Subject = { endpoint: bareServer.endpoint, pid: bareServer.pid };
  const quiet = wrapped(quietServer);
  const listened = wrapped(listenedServer);
  const subjects = [bare, quiet, listened];
  const samples = new Map<Subject, { opsPerSec: number; cpuUsPerOp: number; p50Us: number; p99Us: number }[]>(subjects.map((s) => [s, []]));
  try {
    for (const subject of subjects) {
      await runLoad(loadgen, ['--endpoint', subject.endpoint, '--max-seconds', '10', 'create-bucket']);
      // A fresh store's first burst of creates runs slower (the file system allocating), so
      // each server gets one unmeasured round first.
      await runLoad(loadgen, ['--endpoint', subject.endpoint, '--max-seconds', String(options.seconds),
        'small', '--op', 'put', '--size', '4096', '--count', String(options.count), '--concurrency', '32', '--prefix', 'warm/']);
    }
    for (let round = 0; round < options.rounds; round++) {
      // Each round in another order, so no server always runs first or last.
      const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]);
      for (const subject of order) {
        const before = cpuSeconds(subject.pid);
        const report = await runLoad(loadgen, [
          '--endpoint', subject.endpoint, '--max-seconds', String(options.seconds),
          'small', '--op', 'put', '--size', '4096', '--count', String(options.count), '--concurrency', '32', '--prefix', `r${round}/`,
        ]);
        if (report.errors > 0) throw new Error(`${report.errors} PUTs failed`);
        const cpuUsPerOp = ((cpuSeconds(subject.pid) - before) * 1e6) / Math.max(1, report.ops);
        samples.get(subject)!.push({ opsPerSec: report.opsPerSec, cpuUsPerOp, p50Us: report.p50Us, p99Us: report.p99Us });
      }
    }
    // Events still in the pipe arrive after the last round's answer.
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    await quietServer.stop();
    await listenedServer.stop();
    await bareServer.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
  const summary = (subject: Subject, seen: number): EventsCostResult => {
    const runs = samples.get(subject)!;
    return {
      opsPerSec: median(runs.map((r) => r.opsPerSec)),
      cpuUsPerOp: median(runs.map((r) => r.cpuUsPerOp)),
      p50Us: median(runs.map((r) => r.p50Us)),
      p99Us: median(runs.map((r) => r.p99Us)),
      eventsSeen: seen,
    };
  };
  return { bare: summary(bare, 0), quiet: summary(quiet, 0), listened: summary(listened, eventsSeen) };
}
