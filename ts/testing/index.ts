// `@push.rocks/smarts3/testing`: one server for a whole test run. A global setup starts it and
// shares how to reach it through the environment (test workers inherit it); test files read it
// back with `s3Env()` / `s3ClientConfig()`. Runner entry points: `./vitest`, `./jest-setup` +
// `./jest-teardown`; for node:test (and any other runner) `smarts3 exec -- <command>`.
import * as plugins from '../plugins.js';
import { Smarts3 } from '../classes.smarts3.js';
import { overlay } from '../overlay.js';
import type { ISmarts3Config } from '../interfaces.js';

/** The variable that carries the server's details (JSON) to test workers. */
export const SMARTS3_ENV_VAR = 'SMARTS3_TEST_SERVER';

/** What a test needs to reach the shared server. */
export interface ISmarts3TestServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The server process, so a test can tell it apart from others. */
  pid: number;
}

export interface IRunningTestServer {
  smarts3: Smarts3;
  server: ISmarts3TestServer;
  /** Stops the server, removes its temporary storage and the variables it set. */
  stop: () => Promise<void>;
}

/**
 * Starts a server for a test run: on 127.0.0.1, a free port, fresh temporary storage, quiet
 * (each overridable through `config`). Sets `SMARTS3_TEST_SERVER` and the AWS variables
 * (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, keys, region) in `process.env`.
 */
export async function startTestS3(config: ISmarts3Config = {}): Promise<IRunningTestServer> {
  const directory =
    config.storage?.directory ?? plugins.fs.mkdtempSync(plugins.path.join(plugins.os.tmpdir(), 'smarts3-test-'));
  const defaults: ISmarts3Config = {
    server: { port: 0, address: '127.0.0.1', silent: true },
    storage: { cleanSlate: true, directory },
  };
  const smarts3 = await Smarts3.createAndStart(overlay(defaults, config));
  const env = await smarts3.env();
  const info = smarts3.getServerInfo();
  const server: ISmarts3TestServer = {
    endpoint: env.AWS_ENDPOINT_URL_S3,
    region: env.AWS_REGION,
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    pid: info.pid,
  };
  const variables: Record<string, string> = { ...env, [SMARTS3_ENV_VAR]: JSON.stringify(server) };
  const previous = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  return {
    smarts3,
    server,
    stop: async () => {
      await smarts3.stop();
      for (const [name, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      if (config.storage?.directory === undefined) plugins.fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The shared server's details, in a test file; throws if no global setup started one. */
export function s3Env(): ISmarts3TestServer {
  const text = process.env[SMARTS3_ENV_VAR];
  if (!text) {
    throw new Error(
      `${SMARTS3_ENV_VAR} is not set: start the server in a global setup ('@push.rocks/smarts3/testing/vitest', ` +
        `'@push.rocks/smarts3/testing/jest-setup') or run the tests under 'smarts3 exec -- <command>'`,
    );
  }
  return JSON.parse(text);
}

/** Options for `new S3Client(...)` of the AWS SDK v3 that reach the shared server. */
export function s3ClientConfig() {
  const server = s3Env();
  return {
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  };
}
