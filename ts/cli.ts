#!/usr/bin/env node
// `smarts3`: start a local S3 server from the command line and print how to reach it.
import * as plugins from './plugins.js';
import * as paths from './paths.js';
import { Smarts3 } from './classes.smarts3.js';
import { overlay } from './overlay.js';
import type { ISmarts3Config } from './interfaces.js';

const HELP = `smarts3 — a local S3 server

Usage: smarts3 [options]
       smarts3 exec [options] -- <command> [args…]

exec starts a server for the command's run (a free port and fresh temporary storage unless
given), runs the command with SMARTS3_TEST_SERVER and the AWS_* variables set, stops the
server when the command ends and exits with its code: one server for a whole test run of any
runner, e.g. smarts3 exec -- node --test.

Options:
  --config <file>            a JSON file of the config (ISmarts3Config: faults, buckets, limits…);
                             the flags below override it
  --bucket <name>[=<dir>]    create this bucket at start when missing, holding the files of <dir>
                             (repeatable; comes back on reset)
  --port <n>                 port to listen on; 0 picks a free one        (default 3000)
  --address <addr>           address to listen on                          (default 127.0.0.1)
  --directory <dir>          storage directory                             (default ./.nogit/bucketsDir)
  --clean-slate              empty the storage directory first
  --region <region>          region reported to clients                    (default us-east-1)
  --access-key-id <id>       access key id to hand out (with --secret-access-key)
  --secret-access-key <key>  secret access key to hand out                 (default S3RVER / S3RVER)
  --auth                     verify request signatures (default: accept any credentials)
  --cors-origin <origin>     allow this browser origin (repeatable; default: any origin)
  --no-cors                  no server-wide CORS default (buckets may still have rules)
  --console                  serve the web console (on 127.0.0.1; its URL is printed)
  --console-port <n>         the console's port; implies --console          (default: a free one)
  --log-level <level>        error | warn | info | debug | trace            (default info)
  --silent                   no server logs
  --version                  print the version
  -h, --help                 show this help

Ctrl-C or SIGTERM stops the server cleanly.`;

function fail(message: string): never {
  console.error(`smarts3: ${message}\nRun smarts3 --help for the options.`);
  process.exit(2);
}

function parse(argv: string[]): { config: ISmarts3Config; help: boolean; version: boolean } {
  let parsed;
  try {
    parsed = plugins.util.parseArgs({
      args: argv,
      strict: true,
      options: {
        config: { type: 'string' },
        bucket: { type: 'string', multiple: true },
        port: { type: 'string' },
        address: { type: 'string' },
        directory: { type: 'string' },
        'clean-slate': { type: 'boolean' },
        region: { type: 'string' },
        'access-key-id': { type: 'string' },
        'secret-access-key': { type: 'string' },
        auth: { type: 'boolean' },
        'cors-origin': { type: 'string', multiple: true },
        'no-cors': { type: 'boolean' },
        console: { type: 'boolean' },
        'console-port': { type: 'string' },
        'log-level': { type: 'string' },
        silent: { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const v = parsed.values;
  const port = portFlag('--port', v.port);
  const consolePort = portFlag('--console-port', v['console-port']);
  if (Boolean(v['access-key-id']) !== Boolean(v['secret-access-key'])) {
    fail('--access-key-id and --secret-access-key go together');
  }
  const flags: ISmarts3Config = {
    // Unset options stay unset: the server fills in its defaults and reports them back.
    server: { port, address: v.address, region: v.region, silent: v.silent },
    storage: { directory: v.directory, cleanSlate: v['clean-slate'] },
    auth: {
      enabled: v.auth,
      credentials: v['access-key-id'] ? [{ accessKeyId: v['access-key-id'], secretAccessKey: v['secret-access-key']! }] : undefined,
    },
    cors: v['no-cors'] ? { enabled: false } : v['cors-origin'] ? { enabled: true, allowedOrigins: v['cors-origin'] } : undefined,
    logging: v['log-level'] ? { level: v['log-level'] } : undefined,
    console: v.console || consolePort !== undefined ? { enabled: true, port: consolePort } : undefined,
  };
  const config = overlay(v.config ? readConfig(v.config) : {}, flags);
  for (const spec of v.bucket ?? []) {
    const [name, directory] = spec.split(/=(.*)/s);
    config.buckets = [...(config.buckets ?? []), { name, directory: directory || undefined }];
  }
  return { config, help: v.help ?? false, version: v.version ?? false };
}

function portFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`${flag} must be a port number, not '${value}'`);
  return port;
}

function readConfig(file: string): ISmarts3Config {
  try {
    return JSON.parse(plugins.fs.readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`--config ${file}: ${(error as Error).message}`);
  }
}

/** `smarts3 exec [options] -- <command…>`: the command runs against a server of its own. */
async function exec(argv: string[]): Promise<never> {
  const split = argv.indexOf('--');
  const command = split === -1 ? [] : argv.slice(split + 1);
  if (command.length === 0) fail('exec needs a command after --');
  const { config } = parse(argv.slice(0, split));
  const { startTestS3 } = await import('./testing/index.js');
  let running;
  try {
    running = await startTestS3(config);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const child = plugins.childProcess.spawn(command[0], command.slice(1), { stdio: 'inherit', env: process.env });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      console.error(`smarts3 exec: ${command[0]}: ${error.message}`);
      resolve(127);
    });
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 + (plugins.os.constants.signals[signal] ?? 0) : 1)));
  });
  await running.stop();
  process.exit(code);
}

async function main() {
  if (process.argv[2] === 'exec') await exec(process.argv.slice(3));
  const { config, help, version } = parse(process.argv.slice(2));
  if (help) {
    console.log(HELP);
    return;
  }
  if (version) {
    const pkg = JSON.parse(plugins.fs.readFileSync(plugins.path.join(paths.packageDir, 'package.json'), 'utf8'));
    console.log(pkg.version);
    return;
  }
  let smarts3: Smarts3;
  try {
    smarts3 = await Smarts3.createAndStart(config);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const d = await smarts3.getS3Descriptor();
  const info = smarts3.getServerInfo();
  const endpoint = `http://${d.endpoint}:${d.port}`;
  console.log(`smarts3 is running
  endpoint:          ${endpoint}
  region:            ${d.region}
  accessKeyId:       ${d.accessKey}
  secretAccessKey:   ${d.accessSecret}
  storage directory: ${info.directory}
  signatures:        ${info.authEnabled ? 'verified' : 'not verified (any credentials are accepted)'}${info.consoleUrl ? `\n  web console:       ${info.consoleUrl}` : ''}

For the aws CLI and the SDKs (which read these variables):
  export AWS_ENDPOINT_URL=${endpoint} AWS_REGION=${d.region} AWS_ACCESS_KEY_ID=${d.accessKey} AWS_SECRET_ACCESS_KEY=${d.accessSecret}
  aws --endpoint-url ${endpoint} s3 ls

For @aws-sdk/client-s3:
  new S3Client({ endpoint: '${endpoint}', region: '${d.region}', forcePathStyle: true,
    credentials: { accessKeyId: '${d.accessKey}', secretAccessKey: '${d.accessSecret}' } })

Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await smarts3.stop();
    console.log('smarts3 stopped');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await main();
