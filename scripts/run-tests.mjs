#!/usr/bin/env node
// Runs the end-to-end suites (test/test*.ts) with Node's test runner and fails unless the run
// was whole: every test passed, none was skipped, cancelled or left as todo, at least
// EXPECTED_TESTS ran, and no test ran past its timeout. Raise EXPECTED_TESTS when you add tests.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const EXPECTED_TESTS = 240;
/** One test that runs longer than this has hung (the slowest take ~15 s). */
const TEST_TIMEOUT_MS = 120_000;
/** The whole run; a hang outside any test (a hook, an open handle) ends here. */
const RUN_TIMEOUT_MS = 30 * 60_000;

const root = path.join(import.meta.dirname, '..');
const files = fs
  .readdirSync(path.join(root, 'test'))
  .filter((name) => /^test.*\.ts$/.test(name))
  .sort()
  .map((name) => path.join('test', name));

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    '--test-reporter=tap',
    ...files,
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk;
});
const timer = setTimeout(() => {
  console.error(`run-tests: the run took longer than ${RUN_TIMEOUT_MS / 60_000} minutes; stopping it`);
  child.kill('SIGKILL');
}, RUN_TIMEOUT_MS);

const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? signal)));
clearTimeout(timer);
/** The runner's closing summary line `# <name> <n>` (the last one: it covers every file). */
const count = (name) => Number([...output.matchAll(new RegExp(`^# ${name} (\\d+)$`, 'gm'))].at(-1)?.[1] ?? NaN);
const summary = Object.fromEntries(['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo'].map((n) => [n, count(n)]));
const problems = [];
if (code !== 0) problems.push(`the test runner exited with ${code}`);
if (!(summary.tests >= EXPECTED_TESTS)) problems.push(`${summary.tests} tests ran, expected at least ${EXPECTED_TESTS}`);
for (const name of ['fail', 'cancelled', 'skipped', 'todo']) {
  if (summary[name] !== 0) problems.push(`${summary[name]} test(s) ${name}`);
}
if (problems.length) {
  console.error(`run-tests: the run is not whole: ${problems.join('; ')}`);
  process.exit(1);
}
console.error(`run-tests: ${summary.pass} of ${summary.tests} tests passed, none skipped`);
