import * as plugins from './plugins.js';
import * as paths from './paths.js';
import type {
  IBucketSummary,
  IFaultRule,
  IFaultRuleReport,
  IRequestRecord,
  ILifecycleReport,
  IServerStats,
  ISmarts3Config,
  ISmarts3Events,
  IStartResult,
  TRusts3Commands,
  TSmarts3Options,
} from './interfaces.js';

const BINARY_NAME = 'rusts3';
const BINARY_ENV_VAR = 'SMARTS3_RUST_BINARY';
/** process.platform/process.arch pairs we ship binaries for. */
const SUPPORTED_PLATFORMS = ['linux/x64', 'linux/arm64'];
const STDERR_LINES_KEPT = 20;

/** The v2 top-level options folded into the v6 config; every default is the server's. */
function mergeV2Options(options: TSmarts3Options): ISmarts3Config {
  const { port, cleanSlate, ...config } = options;
  return {
    ...config,
    server: { ...config.server, port: config.server?.port ?? port },
    storage: { ...config.storage, cleanSlate: config.storage?.cleanSlate ?? cleanSlate },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number | undefined, timeoutMs: number): Promise<void> {
  if (pid === undefined) return;
  const deadline = Date.now() + timeoutMs;
  // A stopped server exits within a few milliseconds: look often at first, then less.
  let pauseMs = 1;
  while (isAlive(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    pauseMs = Math.min(pauseMs * 2, 20);
  }
}

/**
 * The server's events, by the command that turns them on: a listener on any of them subscribes
 * the server on demand (change events and request records separately, so each costs nothing
 * until somebody listens).
 */
const EVENT_CHANNELS: { command: 'subscribeEvents' | 'subscribeRequests'; names: (keyof ISmarts3Events)[] }[] = [
  {
    command: 'subscribeEvents',
    names: ['objectCreated', 'multipartCompleted', 'objectRemoved', 'bucketCreated', 'bucketRemoved', 'eventsMissed'],
  },
  { command: 'subscribeRequests', names: ['request', 'requestsMissed'] },
];

/**
 * A local S3 server: a `rusts3` child process driven over smartrust's JSON-lines IPC. It is an
 * EventEmitter of `ISmarts3Events` (objectCreated, objectRemoved, …); the server sends them
 * only once somebody listens.
 */
export class Smarts3 extends plugins.events.EventEmitter {
  public static async createAndStart(options: TSmarts3Options = {}): Promise<Smarts3> {
    const instance = new Smarts3(options);
    await instance.start();
    return instance;
  }

  /** The configuration as given (v2 options folded in); `getServerInfo()` has it resolved. */
  public readonly config: ISmarts3Config;
  private bridge: plugins.smartrust.RustBridge<TRusts3Commands> | null = null;
  private started: IStartResult | null = null;
  /** The child's process id, from its `ready` event; stop() waits for it to be gone. */
  private pid: number | undefined;
  private stderrTail: string[] = [];

  /** The subscribe commands sent to the running server. */
  private subscribed = new Set<string>();
  /** Why the server process is gone, once it exited without stop(). */
  private exitReason: string | null = null;

  constructor(options: TSmarts3Options = {}) {
    super();
    this.config = mergeV2Options(options);
    this.on('newListener', (event: string) => {
      const channel = EVENT_CHANNELS.find((c) => (c.names as string[]).includes(event));
      if (channel) this.subscribe(channel.command);
    });
  }

  /** Asks the running server to send a channel of events (once). */
  private subscribe(command: (typeof EVENT_CHANNELS)[number]['command']): void {
    if (!this.bridge || this.subscribed.has(command)) return;
    this.subscribed.add(command);
    this.bridge.sendCommand(command, {}).catch((error: Error) => {
      // Not an 'error' event: with no listener for it, that would throw in the caller's process.
      this.subscribed.delete(command);
      console.error(`[smarts3] could not subscribe to events: ${error.message}`);
    });
  }

  /**
   * Resolves once `bucket/key` exists (at once if it already does); rejects when `timeoutMs`
   * (default 5000, at most 25000) passes first.
   */
  public async waitForObject(bucket: string, key: string, options: { timeoutMs?: number } = {}) {
    return this.command('waitForObject', { bucket, key, timeoutMs: options.timeoutMs });
  }

  /** Starts the server; rejects with an Error that says what went wrong. */
  public async start(): Promise<void> {
    if (this.bridge && !this.exitReason) return;
    // After the process died, start() starts a new one.
    this.bridge = null;
    this.started = null;
    const binaryPath = await this.findBinary();
    const bridge = new plugins.smartrust.RustBridge<TRusts3Commands>({
      binaryName: BINARY_NAME,
      binaryPath,
      searchSystemPath: false,
      readyTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      logger: { log: () => {} },
    });
    this.stderrTail = [];
    bridge.on('stderr', (line: string) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_LINES_KEPT) this.stderrTail.shift();
      if (!this.config.server?.silent) console.error(`[smarts3] ${line}`);
    });
    this.pid = undefined;
    bridge.once('management:ready', (data: { pid?: number }) => {
      this.pid = data?.pid;
    });
    // A crash before `ready` would otherwise cost the whole ready timeout.
    const exited = new Promise<false>((resolve) => bridge.once('exit', () => resolve(false)));
    const spawned = await Promise.race([bridge.spawn(), exited]);
    if (!spawned) {
      bridge.kill();
      throw new Error(`smarts3: ${binaryPath} did not start${this.stderrSummary()}`);
    }
    try {
      this.started = await Promise.race([
        bridge.sendCommand('start', { config: this.config }),
        exited.then(() => {
          throw new Error(`the server process exited${this.stderrSummary()}`);
        }),
      ]);
    } catch (error) {
      bridge.kill();
      await waitForExit(this.pid, 3_000);
      throw new Error(`smarts3 could not start: ${(error as Error).message}`);
    }
    for (const name of EVENT_CHANNELS.flatMap((c) => c.names)) {
      bridge.on(`management:${name}`, (data: unknown) => this.emit(name, data));
    }
    // smartrust rejects pending calls before it emits 'exit', and their handlers run after it:
    // so every rejection below can say why the process went.
    this.exitReason = null;
    bridge.once('exit', (code: number | null, signal: string | null) => {
      if (this.bridge !== bridge) return; // stopped on purpose
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.exitReason = `the server process (pid ${this.pid}) ${how}${this.stderrSummary()}`;
    });
    this.bridge = bridge;
    this.subscribed.clear();
    for (const channel of EVENT_CHANNELS) {
      if (channel.names.some((name) => this.listenerCount(name) > 0)) this.subscribe(channel.command);
    }
  }

  /** Stops the server: in-flight requests finish, the port is free, the process is gone. */
  public async stop(): Promise<void> {
    const bridge = this.bridge;
    if (!bridge) return;
    this.bridge = null;
    this.started = null;
    this.subscribed.clear();
    this.exitReason = null;
    const pid = this.pid;
    try {
      if (bridge.running) await bridge.sendCommand('stop', {});
    } catch {
      // The process is gone or not answering: killing it below is all that is left to do.
    }
    bridge.kill();
    await waitForExit(pid, 5_000);
  }

  /** Creates a bucket (if missing) and returns it as a SmartBucket `Bucket`. */
  public async createBucket(bucketName: string) {
    await this.command('createBucket', { name: bucketName });
    const { SmartBucket } = await plugins.loadSmartbucket();
    const smartbucket = new SmartBucket(await this.getS3Descriptor());
    return smartbucket.getBucketByName(bucketName);
  }

  /**
   * Environment variables for code under test that builds its own client. Recent AWS SDKs
   * (boto3 from 1.28) and the aws CLI (from 2.13) read `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`;
   * older ones need the endpoint passed explicitly.
   */
  public async env(): Promise<Record<string, string>> {
    const d = await this.getS3Descriptor();
    const endpoint = `http://${d.endpoint}:${d.port}`;
    return {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: d.accessKey,
      AWS_SECRET_ACCESS_KEY: d.accessSecret,
      AWS_REGION: d.region ?? this.getServerInfo().region,
    };
  }

  /** Every bucket, by name, with its creation date (whoever owns it). */
  public async listBuckets(): Promise<IBucketSummary[]> {
    return (await this.command('listBuckets', {})).buckets;
  }

  /**
   * Deletes a bucket. A bucket holding objects is refused (BucketNotEmpty) unless `force`,
   * which deletes its objects and unfinished uploads with it.
   */
  public async deleteBucket(name: string, options: { force?: boolean } = {}): Promise<void> {
    await this.command('deleteBucket', { name, force: options.force ?? false });
  }

  /** Removes every object and unfinished upload of a bucket; the bucket and its settings stay. */
  public async emptyBucket(name: string): Promise<void> {
    await this.command('emptyBucket', { name });
  }

  /**
   * Removes every bucket, object and upload while the server keeps running, and puts the
   * config's seeded buckets and fault rules back; returns how many buckets went.
   */
  public async reset(): Promise<number> {
    return (await this.command('reset', {})).bucketsRemoved;
  }

  /**
   * The most recent requests (`logging.requestHistory` of them), oldest first; with `since`,
   * only those after that `seq`. A failing test can print what the server saw.
   */
  public async getRequests(options: { since?: number } = {}): Promise<IRequestRecord[]> {
    return (await this.command('getRequests', { since: options.since })).requests;
  }

  /**
   * Replaces the fault rules in force (see IFaultRule): matching requests get latency, an S3
   * error, a bandwidth cap or a reset connection, so retry logic can be tested.
   */
  public async setFaults(rules: IFaultRule[]): Promise<IFaultRuleReport[]> {
    return (await this.command('setFaults', { rules })).rules;
  }

  /** Removes every fault rule: requests are served normally again. */
  public async clearFaults(): Promise<void> {
    await this.command('clearFaults', {});
  }

  /** The fault rules in force, with how many requests each has hit. */
  public async getFaults(): Promise<IFaultRuleReport[]> {
    return (await this.command('getFaults', {})).rules;
  }

  /** Applies every bucket's lifecycle rules now (the server also runs them in the background). */
  public async runLifecycle(): Promise<ILifecycleReport> {
    return this.command('runLifecycle', {});
  }

  /** Requests by operation and status since start, uptime, and objects and bytes per bucket. */
  public async getStats(): Promise<IServerStats> {
    return this.command('getStats', {});
  }

  /** Connection details for the AWS SDK, SmartBucket and friends, with the port actually bound. */
  public async getS3Descriptor(
    overrides?: Partial<plugins.tsclass.storage.IS3Descriptor>,
  ): Promise<plugins.tsclass.storage.IS3Descriptor> {
    const started = this.getServerInfo();
    const credential = started.credentials[0];
    const wildcard = started.address === '0.0.0.0' || started.address === '::';
    return {
      endpoint: wildcard ? '127.0.0.1' : started.address,
      port: started.port,
      useSsl: false,
      accessKey: credential.accessKeyId,
      accessSecret: credential.secretAccessKey,
      region: started.region,
      ...overrides,
    };
  }

  /** The web console's URL (`console.enabled` in the config); undefined when it is off. */
  public getConsoleUrl(): string | undefined {
    return this.started?.consoleUrl ?? undefined;
  }

  /** The running server's resolved configuration: port, address, directory, credentials, pid. */
  public getServerInfo(): IStartResult {
    this.requireRunning();
    return this.started!;
  }

  /** Sends a command; if the server process dies meanwhile, the rejection says how. */
  private async command<K extends keyof TRusts3Commands>(
    method: K,
    params: TRusts3Commands[K]['params'],
  ): Promise<TRusts3Commands[K]['result']> {
    const bridge = this.requireRunning();
    try {
      return await bridge.sendCommand(method, params);
    } catch (error) {
      if (this.exitReason) throw new Error(`smarts3: ${String(method)} failed: ${this.exitReason}`);
      throw error;
    }
  }

  private requireRunning(): plugins.smartrust.RustBridge<TRusts3Commands> {
    if (this.exitReason) throw new Error(`smarts3 is not running: ${this.exitReason}`);
    if (!this.bridge || !this.started) {
      throw new Error('smarts3 is not running: call start() first');
    }
    return this.bridge;
  }

  private stderrSummary(): string {
    return this.stderrTail.length ? `; its last output:\n${this.stderrTail.join('\n')}` : '';
  }

  /** The env override, else the shipped binary for this platform, else a local cargo build. */
  private async findBinary(): Promise<string> {
    const fromEnv = process.env[BINARY_ENV_VAR];
    if (fromEnv) {
      // An explicit choice: use it or say why not, never silently fall back to another binary.
      try {
        plugins.fs.accessSync(fromEnv, plugins.fs.constants.X_OK);
        if (plugins.fs.statSync(fromEnv).isFile()) return fromEnv;
      } catch {
        // reported below
      }
      throw new Error(`smarts3: ${BINARY_ENV_VAR}=${fromEnv} is not an executable rusts3 binary`);
    }
    const platform = `${process.platform}/${process.arch}`;
    if (!SUPPORTED_PLATFORMS.includes(platform)) {
      throw new Error(
        `smarts3 has no server binary for ${platform}; supported platforms: ${SUPPORTED_PLATFORMS.join(', ')}. ` +
          `Set ${BINARY_ENV_VAR} to a rusts3 binary built for this machine.`,
      );
    }
    const localPaths = [
      plugins.path.join(paths.distRustDir, BINARY_NAME),
      plugins.path.join(paths.rustTargetDir, 'release', BINARY_NAME),
      plugins.path.join(paths.rustTargetDir, 'debug', BINARY_NAME),
    ];
    const locator = new plugins.smartrust.RustBinaryLocator(
      { binaryName: BINARY_NAME, localPaths, searchSystemPath: false },
      { log: () => {} },
    );
    const found = await locator.findBinary();
    if (!found) {
      const where = localPaths.map((p) => `${p}[_<os>_<arch>]`).join(', ');
      throw new Error(
        `smarts3: the rusts3 binary for ${platform} was not found (looked at ${where}). ` +
          `Reinstall the package, run \`npm run build\` in a checkout, or set ${BINARY_ENV_VAR}.`,
      );
    }
    return found;
  }
}
