// `npm run bench`: smarts3 side by side with s3s-fs, s3rver and nginx (the machine's limit for
// the same bytes without S3 semantics) in one run, printed as ratios. Every server runs on
// 127.0.0.1 with SigV4 header auth on (nginx ignores it), one at a time, loaded by the project's
// own load generator (rust/examples/loadgen), which shares the machine's cores with it.
//
//   npm run bench                         every scenario, every server, listings over 10k and 100k keys
//   npm run bench -- --keys 10000,100000,1000000
//   npm run bench -- --servers smarts3,s3s-fs --only small
//   npm run bench -- --quick              a tiny run that only shows the benchmark works
//
// Results go to stdout as tables and to .nogit/bench/results.json (or --out FILE). Ratios from one run are what
// to compare; absolute figures drift 2-3x between runs on shared machines.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureLoadgen, ensureSmarts3, ensureSmarts3V2, PEERS, prepare, root, type PeerName, type RunningPeer } from './servers.js';
import { measureStartup } from './startup.js';
import { measureEventsCost } from './events.js';
import { cpuSeconds, peakRssMiB, rssMiB } from './proc.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const servers = (option('--servers')?.split(',') ?? PEERS) as PeerName[];
const only = option('--only')?.split(',');
const keyCounts = (option('--keys') ?? (quick ? '300' : '10000,100000')).split(',').map(Number);
const MiB = 1 << 20;
const sizes = {
  small: 4096,
  smallCount: quick ? 100 : 50_000,
  smallSeconds: quick ? 2 : 4,
  large: quick ? 8 * MiB : 256 * MiB,
  multipart: quick ? 15 * MiB : 1024 * MiB,
  part: quick ? 5 * MiB : 16 * MiB,
  mixedCount: quick ? 200 : 100_000,
  mixedSeconds: quick ? 2 : 5,
};
const longSeconds = quick ? 60 : 600;
const listSeconds = quick ? 20 : 30;

interface LoadReport {
  ops: number;
  seconds: number;
  opsPerSec: number;
  mibPerSec: number;
  itemsPerSec: number;
  items: number;
  errors: number;
  firstError: string | null;
  p50Us: number;
  p99Us: number;
  classes: Record<string, { count: number; p50Us: number; p99Us: number }>;
}

/** One scenario's figure for one server, with its latencies and the server's CPU time. */
interface Result {
  value: number;
  unit: string;
  p50Us: number;
  p99Us: number;
  cpuUsPerOp: number;
  note?: string;
}

const loadgen = ensureLoadgen(quick ? 'debug' : 'release');

function load(peer: RunningPeer, command: string[], seconds: number): LoadReport {
  let out: string;
  try {
    out = execFileSync(
      loadgen,
      [
        '--endpoint', peer.endpoint, '--access-key', peer.accessKey, '--secret-key', peer.secretKey,
        '--max-seconds', String(seconds), ...command,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * MiB },
    );
  } catch (error) {
    // The load generator gave up (a listing or a multipart upload the server broke off).
    const stderr = String((error as { stderr?: unknown }).stderr ?? error).trim();
    console.error(`${peer.name} ${command.join(' ')}: ${stderr}`);
    return { ...FAILED, firstError: stderr };
  }
  const report = JSON.parse(out.trim().split('\n').pop()!) as LoadReport;
  // A peer's failures are its own result: reported in the table, not the end of the run.
  if (report.errors > 0) console.error(`${peer.name} ${command.join(' ')}: ${report.errors} errors, first: ${report.firstError}`);
  return report;
}

const FAILED: LoadReport = {
  ops: 0, seconds: 0, opsPerSec: 0, mibPerSec: 0, itemsPerSec: 0, items: 0, errors: 1, firstError: null, p50Us: 0, p99Us: 0, classes: {},
};

/** Runs a load and measures the server's CPU seconds around it. */
function measure(peer: RunningPeer, command: string[], seconds: number, pick: (r: LoadReport) => Omit<Result, 'cpuUsPerOp'>) {
  // Each scenario starts with no dirty pages: otherwise the kernel's writeback of what the last
  // one wrote throttles this one's writes, and the figures depend on the order of the run.
  execFileSync('sync');
  const before = cpuSeconds(peer.pid);
  const report = load(peer, command, seconds);
  const cpu = cpuSeconds(peer.pid) - before;
  const failed = report.errors > 0 ? `${report.errors} failed` : undefined;
  return { report, result: { ...pick(report), cpuUsPerOp: (cpu * 1e6) / Math.max(1, report.ops), note: failed } };
}

const opsPerSec = (r: LoadReport) => ({ value: r.opsPerSec, unit: 'ops/s', p50Us: r.p50Us, p99Us: r.p99Us });
const mibPerSec = (r: LoadReport) => ({ value: r.mibPerSec, unit: 'MiB/s', p50Us: r.p50Us, p99Us: r.p99Us });
const keysPerSec = (r: LoadReport) => ({ value: r.itemsPerSec, unit: 'keys/s', p50Us: r.p50Us, p99Us: r.p99Us });
const wanted = (group: string) => !only || only.includes(group);
const fmtSize = (bytes: number) => (bytes >= 1024 * MiB ? `${bytes / 1024 / MiB} GiB` : `${bytes / MiB} MiB`);
const fmtCount = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

/** Scenario name → server → result, in the order they ran. */
const results = new Map<string, Map<string, Result>>();
function record(scenario: string, server: string, result: Result) {
  if (!results.has(scenario)) results.set(scenario, new Map());
  results.get(scenario)!.set(server, result);
}

async function benchmark(peer: RunningPeer) {
  const record_ = (scenario: string, result: Result) => record(scenario, peer.name, result);
  await new Promise((r) => setTimeout(r, 500));
  record_('idle RSS after start', { value: rssMiB(peer.pid), unit: 'MiB', p50Us: 0, p99Us: 0, cpuUsPerOp: 0 });
  if (peer.s3) load(peer, ['create-bucket'], 10);
  else fs.mkdirSync(path.join(peer.dataDir, 'bench'));

  if (wanted('small')) {
    for (const concurrency of quick ? [1, 32] : [1, 32, 256]) {
      const common = ['--size', String(sizes.small), '--concurrency', String(concurrency), '--prefix', `c${concurrency}/`];
      const put = measure(peer, ['small', '--op', 'put', '--count', String(sizes.smallCount), ...common], sizes.smallSeconds, opsPerSec);
      record_(`PUT 4 KiB, ${concurrency} in flight`, put.result);
      const keys = String(put.report.ops);
      for (const op of ['get', 'head'] as const) {
        const run = measure(peer, ['small', '--op', op, '--count', String(sizes.smallCount), '--keys', keys, ...common], sizes.smallSeconds, opsPerSec);
        record_(`${op.toUpperCase()} 4 KiB, ${concurrency} in flight`, run.result);
      }
      const del = measure(peer, ['small', '--op', 'delete', '--count', keys, ...common], sizes.smallSeconds, opsPerSec);
      record_(`DELETE 4 KiB, ${concurrency} in flight`, del.result);
    }
  }

  if (wanted('large')) {
    for (const streams of [1, 4]) {
      const common = ['--size', String(sizes.large), '--streams', String(streams), '--prefix', `large${streams}/`];
      const label = `${fmtSize(sizes.large)}, ${streams} stream${streams > 1 ? 's' : ''}`;
      record_(`PUT ${label}`, measure(peer, ['large', '--op', 'put', ...common], longSeconds, mibPerSec).result);
      record_(`GET ${label}`, measure(peer, ['large', '--op', 'get', ...common], longSeconds, mibPerSec).result);
    }
  }

  if (peer.s3 && wanted('multipart')) {
    const command = ['multipart', '--size', String(sizes.multipart), '--part-size', String(sizes.part), '--concurrency', '4'];
    record_(`multipart ${fmtSize(sizes.multipart)} (${fmtSize(sizes.part)} parts, 4 in flight)`, measure(peer, command, longSeconds, mibPerSec).result);
  }

  if (peer.s3 && wanted('list')) {
    // s3rver stores a few hundred keys a second: filling 100k would take most of an hour.
    for (const count of keyCounts.filter((n) => peer.name !== 's3rver' || n <= 10_000)) {
      const populate = ['small', '--op', 'put', '--size', '0', '--count', String(count), '--concurrency', '32'];
      load(peer, [...populate, '--prefix', `flat${count}/`], longSeconds);
      load(peer, [...populate, '--prefix', `nested${count}/`, '--fanout', '100'], longSeconds);
      const n = fmtCount(count);
      // A listing that has not finished after listSeconds is cut off; its rate so far stands.
      const list = (extra: string[], expected: number) => {
        const { report, result } = measure(peer, ['list', ...extra], listSeconds, keysPerSec);
        const items = report.items;
        return items < expected ? { ...result, note: `${fmtCount(items)} listed in ${listSeconds} s` } : result;
      };
      record_(`LIST ${n} flat keys, every page`, list(['--prefix', `flat${count}/`], count));
      record_(`LIST ${n} nested keys, every page`, list(['--prefix', `nested${count}/`], count));
      record_(`LIST ${n} nested, delimiter / (100 folders)`, list(['--prefix', `nested${count}/`, '--delimiter', '/'], Math.min(100, count)));
      record_(`LIST ${n} nested, one folder with delimiter`, list(['--prefix', `nested${count}/0042/`, '--delimiter', '/'], Math.floor(count / 100)));
    }
  }

  if (peer.s3 && wanted('mixed')) {
    const count = keyCounts[0];
    if (!wanted('list')) {
      load(peer, ['small', '--op', 'put', '--size', String(sizes.small), '--count', String(count), '--concurrency', '32', '--prefix', `flat${count}/`], longSeconds);
    }
    const command = ['mixed', '--size', String(sizes.small), '--count', String(sizes.mixedCount), '--concurrency', '32', '--prefix', `flat${count}/`, '--keys', String(count)];
    const mixed = measure(peer, command, sizes.mixedSeconds, opsPerSec);
    const listing = mixed.report.classes.list;
    const note = [listing && `LIST p99 ${(listing.p99Us / 1000).toFixed(1)} ms`, mixed.result.note].filter(Boolean).join(', ');
    record_('mixed 70/20/10 GET/PUT/LIST, 32 in flight', { ...mixed.result, note });
  }
  record_('peak RSS over the run', { value: peakRssMiB(peer.pid), unit: 'MiB', p50Us: 0, p99Us: 0, cpuUsPerOp: 0 });
}

/** The machine's own limits for the same bytes: dd to the servers' file system, and MD5. */
function machineLimits(): string[] {
  const lines: string[] = [];
  // The servers' directories are made in the same place (bench/servers.ts).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dd-'));
  try {
    const count = sizes.large / MiB;
    const started = process.hrtime.bigint();
    execFileSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'file')}`, 'bs=1M', `count=${count}`, 'status=none']);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    lines.push(`dd ${fmtSize(sizes.large)} to a new file: ${(count / seconds).toFixed(0)} MiB/s`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const md5 = JSON.parse(execFileSync(loadgen, ['--endpoint', '127.0.0.1:1', 'md5', '--size', String(sizes.large)], { encoding: 'utf8' })) as LoadReport;
  lines.push(`MD5 of ${fmtSize(sizes.large)}, one stream (the md-5 crate smarts3 uses): ${md5.mibPerSec.toFixed(0)} MiB/s`);
  return lines;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function report(limits: string[]) {
  const names = servers;
  const others = names.filter((n) => n !== 'smarts3');
  const lowerIsBetter = (scenario: string, unit: string) => scenario.includes('RSS') || unit === 'ms';
  const rows = [...results].map(([scenario, byServer]) => {
    const mine = byServer.get('smarts3');
    const unit = [...byServer.values()][0]?.unit ?? '';
    const cells = names.map((n) => {
      const r = byServer.get(n);
      return r ? fmt(r.value) + (r.note ? ` (${r.note})` : '') : '—';
    });
    const ratios = others.map((n) => {
      const r = byServer.get(n);
      if (!mine || !r || r.value === 0) return '—';
      return `${fmt(lowerIsBetter(scenario, unit) ? r.value / mine.value : mine.value / r.value)}×`;
    });
    return [`${scenario}, ${unit}`, ...cells, ...ratios];
  });
  console.log('\n## Throughput (higher is better; ratios are smarts3 ÷ peer, for RSS and ms peer ÷ smarts3)\n');
  console.log(table(['scenario', ...names, ...others.map((n) => `vs ${n}`)], rows));
  const latencyRows = [...results]
    .filter(([, byServer]) => [...byServer.values()].some((r) => r.p50Us > 0))
    .map(([scenario, byServer]) => [
      scenario,
      ...names.map((n) => {
        const r = byServer.get(n);
        return r ? `${(r.p50Us / 1000).toFixed(2)} / ${(r.p99Us / 1000).toFixed(2)} / ${r.cpuUsPerOp.toFixed(0)}` : '—';
      }),
    ]);
  console.log('\n## Latency p50 / p99 in ms, and server CPU µs per operation\n');
  console.log(table(['scenario', ...names], latencyRows));
  console.log('\n## The machine\n');
  for (const line of limits) console.log(`- ${line}`);
}

const out = option('--out') ?? path.join(root, '.nogit', 'bench', 'results.json');
/** Writes what has been measured so far, so that a run cut short keeps its figures. */
function save(limits: string[] = []) {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const byScenario = Object.fromEntries([...results].map(([s, m]) => [s, Object.fromEntries(m)]));
  fs.writeFileSync(out, JSON.stringify({ quick, servers, keyCounts, limits, results: byScenario }, null, 2));
}

const starters = servers.map((name) => [name, prepare(name)] as const);
for (const [name, start] of starters) {
  console.error(`# ${name}`);
  const peer = await start();
  try {
    await benchmark(peer);
  } finally {
    await peer.stop();
  }
  save();
}
if (wanted('startup')) {
  // The package as users import it: built from ts/ now, on the benchmark's release binary.
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  const rounds = quick ? 1 : 7;
  const ms = (value: number, note?: string) => ({ value, unit: 'ms', p50Us: 0, p99Us: 0, cpuUsPerOp: 0, note });
  const record_ = (column: string, r: { firstAnswerMs: number; stopMs: number }, note?: string) => {
    record('Node: process start → first answered request (median)', column, ms(r.firstAnswerMs, note));
    record('Node: stopping the server (median)', column, ms(r.stopMs, note));
  };
  if (servers.includes('smarts3')) {
    console.error('# smarts3 start-up');
    record_('smarts3', await measureStartup('smarts3', rounds, { binary: ensureSmarts3() }));
  }
  // v2 was s3rver inside a thin wrapper: its figures stand in the s3rver column.
  if (servers.includes('s3rver')) {
    console.error('# smarts3 v2 start-up');
    record_('s3rver', await measureStartup('v2', rounds, { v2Dir: ensureSmarts3V2() }), 'smarts3 v2.2.7');
  }
  save();
}
if (wanted('events') && servers.includes('smarts3')) {
  // Through the Node wrapper (dist_ts, built by the start-up scenario or the test build).
  if (!wanted('startup')) {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  }
  console.error('# smarts3 events');
  const { bare, quiet, listened } = await measureEventsCost(loadgen, {
    binary: ensureSmarts3(),
    rounds: quick ? 1 : 5,
    seconds: sizes.smallSeconds,
    count: sizes.smallCount,
  });
  const row = (r: typeof quiet, note: string) => ({ value: r.opsPerSec, unit: 'ops/s', p50Us: r.p50Us, p99Us: r.p99Us, cpuUsPerOp: r.cpuUsPerOp, note });
  record('rusts3 serve, no request records kept, PUT 4 KiB, 32 in flight (median)', 'smarts3', row(bare, 'the baseline'));
  record(
    'Node wrapper, PUT 4 KiB, 32 in flight: nobody listening (median)',
    'smarts3',
    row(quiet, `no events sent, ${(quiet.opsPerSec / bare.opsPerSec).toFixed(2)}× the baseline`),
  );
  record(
    'Node wrapper, PUT 4 KiB, 32 in flight: objectCreated + request listeners (median)',
    'smarts3',
    row(listened, `${listened.eventsSeen} events received, ${(listened.opsPerSec / quiet.opsPerSec).toFixed(2)}× the quiet rate`),
  );
  save();
}
const limits = machineLimits();
report(limits);
save(limits);
