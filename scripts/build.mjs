#!/usr/bin/env node
// The project's build: the rusts3 binary into dist_rust/ and the TypeScript into dist_ts/.
// It stands in for @git.zone/tsrust + tsbuild, which cannot be installed here.
//
//   node scripts/build.mjs                 host target + TypeScript
//   node scripts/build.mjs --targets all   every target in npmextra.json (what `npm test` runs),
//                                          installing the Rust target and Debian's cross linker
//                                          when missing
//   node scripts/build.mjs --targets linux_arm64 --rust-only
//
// Targets come from npmextra.json → "@push.rocks/smarts3" → "rustBuild" → "targets"
// (names are <os>_<arch>, the suffixes smartrust's binary locator looks for).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const settings = JSON.parse(fs.readFileSync(path.join(root, 'npmextra.json'), 'utf8'))['@push.rocks/smarts3'].rustBuild;

const TRIPLES = {
  linux_amd64: 'x86_64-unknown-linux-gnu',
  linux_arm64: 'aarch64-unknown-linux-gnu',
};
/** What cross-compiling a target needs besides its Rust standard library. */
const CROSS = {
  linux_arm64: { linker: 'aarch64-linux-gnu-gcc', debianPackages: ['gcc-aarch64-linux-gnu', 'libc6-dev-arm64-cross'] },
  linux_amd64: { linker: 'x86_64-linux-gnu-gcc', debianPackages: ['gcc-x86-64-linux-gnu', 'libc6-dev-amd64-cross'] },
};
const OS_NAMES = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
const ARCH_NAMES = { x64: 'amd64', arm64: 'arm64' };
const hostTarget = `${OS_NAMES[process.platform]}_${ARCH_NAMES[process.arch]}`;

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function selectedTargets() {
  const requested = option('--targets') ?? 'host';
  if (requested === 'host') return [hostTarget];
  if (requested === 'all') return settings.targets;
  return requested.split(',');
}

function run(command, commandArgs, env = process.env) {
  console.log(`$ ${command} ${commandArgs.join(' ')}`);
  execFileSync(command, commandArgs, { cwd: root, stdio: 'inherit', env });
}

function commandExists(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs the Rust target and the cross linker a foreign target needs, when missing. */
function ensureCrossToolchain(target, triple) {
  const installed = execFileSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' });
  if (!installed.split('\n').includes(triple)) run('rustup', ['target', 'add', triple]);
  const { linker, debianPackages } = CROSS[target];
  if (!commandExists(linker)) {
    if (process.getuid?.() !== 0 || !commandExists('apt-get')) {
      throw new Error(`building ${target} needs the linker ${linker} (Debian: apt-get install ${debianPackages.join(' ')})`);
    }
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...debianPackages], { stdio: 'inherit', env });
  }
  return linker;
}

function buildRust(target) {
  const triple = TRIPLES[target];
  if (!triple) throw new Error(`unknown build target '${target}' (known: ${Object.keys(TRIPLES).join(', ')})`);
  const manifest = path.join(settings.cratePath, 'Cargo.toml');
  const cargoArgs = ['build', '--release', '--manifest-path', manifest];
  let built = path.join(root, settings.cratePath, 'target', 'release', settings.binaryName);
  const env = { ...process.env };
  if (target !== hostTarget) {
    const linker = ensureCrossToolchain(target, triple);
    env[`CARGO_TARGET_${triple.toUpperCase().replaceAll('-', '_')}_LINKER`] = linker;
    cargoArgs.push('--target', triple);
    built = path.join(root, settings.cratePath, 'target', triple, 'release', settings.binaryName);
  }
  run('cargo', cargoArgs, env);
  const out = path.join(root, 'dist_rust', `${settings.binaryName}_${target}`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // Copy beside and rename over: replacing a binary that is running (ETXTBSY) still works.
  fs.copyFileSync(built, `${out}.tmp`);
  fs.chmodSync(`${out}.tmp`, 0o755);
  fs.renameSync(`${out}.tmp`, out);
  console.log(`built ${path.relative(root, out)} (${(fs.statSync(out).size / 1024 / 1024).toFixed(1)} MiB)`);
}

function buildTypeScript() {
  run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
}

if (!flag('--ts-only')) {
  for (const target of selectedTargets()) buildRust(target);
}
if (!flag('--rust-only')) buildTypeScript();
console.log("build done");
