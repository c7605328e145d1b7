#!/usr/bin/env node
// Tools the suites drive besides Node: the aws CLI and rclone (interoperability), Debian's
// Chromium (browser suite), qemu-user (the arm64 binary on other hosts) and strace (the crash
// test). This installs them from Debian's packages when missing (as root, with apt-get), so
// `npm test` needs no hand-installed tools; elsewhere it says what to install.
import { execFileSync } from 'node:child_process';

const TOOLS = [
  { command: 'aws', debianPackage: 'awscli' },
  { command: 'rclone', debianPackage: 'rclone' },
  { command: 'chromium', debianPackage: 'chromium' },
  // Runs the linux_arm64 binary on other hosts (test/test.arm64.node.ts).
  { command: 'qemu-aarch64', debianPackage: 'qemu-user' },
  // Widens the gaps between a commit's steps for the kill -9 test (rust/tests/crash.rs).
  { command: 'strace', debianPackage: 'strace' },
];

const onPath = (command) => {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const missing = TOOLS.filter((t) => !onPath(t.command));
if (missing.length > 0) installDebianPackages(missing);
ensureBoto3();

function installDebianPackages(missing) {
  const packages = missing.map((t) => t.debianPackage);
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !onPath('apt-get')) {
    console.error(`The interoperability and browser tests need: ${missing.map((t) => t.command).join(', ')}.`);
    console.error(`Install them (Debian/Ubuntu: apt-get install ${packages.join(' ')}) and run the tests again.`);
    process.exit(1);
  }
  console.log(`installing ${packages.join(', ')} for the interoperability and browser tests`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
}

/** boto3, the Python client of test/test.boto3.node.ts: from PyPI into whatever python3 is on
 * the PATH, or Debian's package when that python3 refuses pip (PEP 668). */
function ensureBoto3() {
  const hasBoto3 = () => {
    try {
      execFileSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (hasBoto3()) return;
  console.log('installing boto3 for the Python client tests');
  if (onPath('python3')) {
    try {
      execFileSync('python3', ['-m', 'pip', 'install', '--quiet', 'boto3'], { stdio: 'inherit' });
    } catch {
      // No pip, or an externally managed Python: Debian's package below.
    }
  }
  if (!hasBoto3() && process.getuid?.() === 0 && onPath('apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'python3', 'python3-boto3'], { stdio: 'inherit', env });
  }
  if (!hasBoto3()) {
    console.error('test/test.boto3.node.ts needs python3 with boto3 (pip install boto3) and could not install it.');
    process.exit(1);
  }
}
