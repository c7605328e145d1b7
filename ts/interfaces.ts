/**
 * One user: an access key pair, and the canonical id and display name S3 reports as owner.
 * With auth off (the default) any credentials are accepted and the first user owns everything.
 */
export interface ISmarts3Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** Canonical user id (64 hex digits in S3). Default: derived from the access key id. */
  canonicalUserId?: string;
  /** Display name. Default: the access key id in lower case. */
  displayName?: string;
  /**
   * The 12-digit account id bucket policies name this user by (`"AWS": "<id>"`,
   * `arn:aws:iam::<id>:root`, `arn:aws:iam::<id>:user/<displayName>`). Default: derived from the
   * access key id.
   */
  accountId?: string;
}

/** The configuration of a Smarts3 server. Every field is optional. */
export interface ISmarts3Config {
  server?: {
    /** Port to listen on; 0 picks a free port (read it from getS3Descriptor()). Default 3000. */
    port?: number;
    /** Address to listen on. Default '127.0.0.1'. */
    address?: string;
    /** Region reported to clients. Default 'us-east-1'. */
    region?: string;
    /** No logging from the server process. */
    silent?: boolean;
    /**
     * Virtual-hosted-style requests (`Host: <bucket>.<baseDomain>`) are understood for this domain
     * as well as for `localhost`.
     */
    baseDomain?: string;
  };
  storage?: {
    /** Storage directory. Default `<cwd>/.nogit/bucketsDir`. */
    directory?: string;
    /** Empty the storage directory before starting. Default false. */
    cleanSlate?: boolean;
    /**
     * What is forced to the disk before a write is answered: 'none' (default; a crash of the
     * server never tears an object, a power cut may lose recent writes), 'data' (object data),
     * 'full' (data, records and directories: acknowledged writes survive a power cut).
     */
    fsync?: 'none' | 'data' | 'full';
  };
  auth?: {
    /** Verify request signatures. Default false (any credentials are accepted). */
    enabled?: boolean;
    /** Credential pairs; the first is handed out by getS3Descriptor(). Default S3RVER/S3RVER. */
    credentials?: ISmarts3Credential[];
  };
  /**
   * The server-wide CORS default, used for buckets without CORS rules of their own (set with
   * PutBucketCors) and for ListBuckets. On and permissive by default (any origin, the five S3
   * methods, any header, the S3 response headers exposed) so browsers work out of the box.
   */
  cors?: {
    /** Default true; false answers preflights for rule-less buckets with 403, as S3 does. */
    enabled?: boolean;
    allowedOrigins?: string[];
    allowedMethods?: string[];
    allowedHeaders?: string[];
    exposedHeaders?: string[];
    maxAge?: number;
    allowCredentials?: boolean;
  };
  logging?: {
    /** error | warn | info | debug | trace. Default 'info'. */
    level?: string;
    /** 'text' or 'json'. Default 'text'. */
    format?: 'text' | 'json';
    /** How many recent requests getRequests() can return; 0 keeps none. Default 1000. */
    requestHistory?: number;
    /** Append every request's record (IRequestRecord) to this file as one JSON line. */
    requestLogFile?: string;
  };
  limits?: {
    /** Largest single PUT body in bytes. Default 5 GiB. */
    maxObjectSize?: number;
    /** Largest total of user metadata in bytes. Default 2048. */
    maxMetadataSize?: number;
    /** Time a client may pause while sending a body, in ms (then RequestTimeout). Default 300000. */
    requestTimeoutMs?: number;
    /** Time a client may take to send a request's headers, or keep a connection idle, in ms. Default 20000. */
    headerTimeoutMs?: number;
    /** Most connections served at once; more wait until one closes. Default 1024 (capped by the open-file limit). */
    maxConnections?: number;
  };
  multipart?: {
    /** Unfinished uploads older than this are removed. Default 7. */
    expirationDays?: number;
    /** How often expired uploads are swept. Default 60. */
    cleanupIntervalMinutes?: number;
    /** Smallest size of every part but the last, in bytes (S3: 5 MiB). Lower it for fast tests. */
    minPartSize?: number;
  };
  lifecycle?: {
    /** How long a lifecycle "day" is, in seconds. Default 86400; tests shorten it. */
    dayLengthSeconds?: number;
  };
  /** Fault rules in force from the start; setFaults() replaces them, reset() brings them back. */
  faults?: IFaultRule[];
  /** Buckets created at start when missing (an existing one is left as it is), and again by reset(). */
  buckets?: ISeedBucket[];
  /**
   * The web console, on a port of its own (the S3 port's paths all belong to buckets and keys).
   * It checks no signature and acts as the first credential's user: keep it on loopback.
   */
  console?: {
    /** Default false. */
    enabled?: boolean;
    /** Default 0: any free port (`getConsoleUrl()` has the one bound). */
    port?: number;
    /** Default 127.0.0.1, whatever `server.address` is. */
    address?: string;
  };
}

/** A bucket the server creates with its settings and files (config `buckets`). */
export interface ISeedBucket {
  name: string;
  versioning?: 'Enabled' | 'Suspended';
  /** The bucket's tag set. */
  tags?: Record<string, string>;
  /** The bucket's CORS rules, as PutBucketCors takes them (none: the server-wide default applies). */
  cors?: {
    id?: string;
    allowedOrigins: string[];
    allowedMethods: string[];
    allowedHeaders?: string[];
    exposeHeaders?: string[];
    maxAgeSeconds?: number;
  }[];
  /**
   * The bucket policy, as PutBucketPolicy takes it: a policy object or its JSON text. Checked at
   * start (a malformed one fails it, naming the bucket); enforced with `auth.enabled`.
   */
  policy?: Record<string, unknown> | string;
  /**
   * A local directory (relative to the working directory) whose files become the bucket's
   * objects: the key is the path below it, '/'-separated; Content-Type comes from the extension
   * (html, css, js, json, svg, png, jpg, pdf, … ; others get S3's binary/octet-stream).
   */
  directory?: string;
}

/**
 * A rule that makes matching requests misbehave on purpose, to test a client's retries. Rules
 * are tried in order; the first that matches and fires applies. Give at least one of
 * `latencyMs`, `error`, `bandwidthBytesPerSecond`, `reset` (`error` and `reset` exclude each other).
 */
export interface IFaultRule {
  /** Shown in the request log and by getFaults(). Default `rule-<n>` (1-based position). */
  name?: string;
  /** The operations it applies to, by their AWS names ('PutObject', 'UploadPart', …). Default: all. */
  operations?: string[];
  bucket?: string;
  keyPrefix?: string;
  /** The chance that a matching request is hit, 0 to 1. Default 1. */
  probability?: number;
  /** Only the next `count` hits, then the rule is spent. Default: no end. */
  count?: number;
  /** Added before the request is handled (at most one hour). */
  latencyMs?: number;
  /**
   * Answered instead of handling the request. `status` is needed for a code the server does not
   * know (SlowDown 503, ServiceUnavailable 503, InternalError 500, RequestTimeout 400 and every
   * code the server answers itself are known) and overrides a known code's status.
   */
  error?: { code: string; status?: number; message?: string };
  /** The request and response bodies go no faster than this. */
  bandwidthBytesPerSecond?: number;
  /**
   * The connection is reset (TCP RST, no answer) after `afterBytes` bytes of a body: the
   * request's when `body` is 'request' (or not given and the request has a body), else the
   * response's. A shorter request body is read whole first; a shorter response goes whole.
   */
  reset?: { afterBytes: number; body?: 'request' | 'response' };
}

/** A fault rule in force, with what it has done (getFaults()). */
export interface IFaultRuleReport extends IFaultRule {
  name: string;
  /** How many requests it has hit. */
  hits: number;
  /** Hits left, for a rule with a `count`. */
  remaining?: number;
}

/** smarts3 v2's options; still accepted (sic: the v2 name had the typo). */
export interface ISmarts3ContructorOptions {
  port?: number;
  cleanSlate?: boolean;
}

/** What the constructor takes: the v6 config, optionally with the v2 top-level fields. */
export type TSmarts3Options = ISmarts3Config & ISmarts3ContructorOptions;

/**
 * Result of the `start` command: the configuration in force, as the server resolved it (the
 * server owns every default; the wrapper repeats none).
 */
export interface IStartResult {
  /** The port actually bound (so port 0 works). */
  port: number;
  address: string;
  /** The storage directory, absolute. */
  directory: string;
  region: string;
  /** Whether request signatures are verified. */
  authEnabled: boolean;
  /** The credential pairs the server accepts; the first is handed out by getS3Descriptor(). */
  credentials: { accessKeyId: string; secretAccessKey: string }[];
  /** The server process id. */
  pid: number;
  /** The rusts3 version. */
  version: string;
  /** The web console's URL; null when it is off. */
  consoleUrl: string | null;
}

/** A bucket as `listBuckets()` reports it. */
export interface IBucketSummary {
  name: string;
  /** ISO 8601. */
  creationDate: string;
}

/** One request as the server answered it (`getRequests()`). */
export interface IRequestRecord {
  /** Increases by one per request; pass the last one seen as `since` to get only later ones. */
  seq: number;
  /** ISO 8601. */
  time: string;
  requestId: string;
  method: string;
  bucket: string | null;
  key: string | null;
  /** The operation's AWS name (`Preflight`, `Unrouted` for requests refused before routing). */
  operation: string;
  status: number;
  /** The S3 error code of an error answer. */
  errorCode: string | null;
  /** The fault rule that hit the request (status 0: it reset the connection, unanswered). */
  fault: string | null;
  /** Request body bytes received (as sent: aws-chunked framing included). */
  bytesIn: number;
  /** Response body bytes answered (the body's length; 0 for HEAD). */
  bytesOut: number;
  /** The signer's access key id; null when unsigned or when signatures are not checked. */
  requester: string | null;
  /** From the request's arrival to its answer's head (the body streams after). */
  durationMs: number;
}

/** What one `runLifecycle()` did. */
export interface ILifecycleReport {
  /** Current versions expired (removed, or hidden behind a delete marker). */
  expired: number;
  /** Noncurrent versions and lone delete markers removed for good. */
  versionsRemoved: number;
  uploadsAborted: number;
  /** Versions whose storage class a transition changed. */
  transitioned: number;
}

/** What `getStats()` reports. */
export interface IServerStats {
  uptimeMs: number;
  /** Requests since start by operation (its AWS name; `Preflight` for CORS preflights, `Unrouted` for requests refused before routing) and status. */
  requests: { operation: string; status: number; count: number; bytesIn: number; bytesOut: number }[];
  /** Request body bytes received and response body bytes answered, in all. */
  bytesIn: number;
  bytesOut: number;
  /** Objects and bytes stored per bucket, counted when asked. */
  buckets: { name: string; creationDate: string; objects: number; bytes: number }[];
}

/** An object that appeared (`objectCreated`, `multipartCompleted`) or went (`objectRemoved`, no size/etag). */
export interface IObjectEvent {
  bucket: string;
  key: string;
  /** The version made (for `objectRemoved`: the delete marker made, or the version removed); null when unversioned. */
  versionId: string | null;
  size?: number;
  etag?: string;
  /** ISO 8601. */
  time: string;
  /**
   * What made the change: the S3 operation's AWS name (`PutObject`, `CompleteMultipartUpload`,
   * `DeleteObjects`, …), the admin command (`emptyBucket`, `reset`, …), or `Lifecycle`.
   */
  operation: string | null;
  /** The signer's access key id; null when unsigned, with auth off, or not a request. */
  requester: string | null;
}

/** A bucket that appeared or went. */
export interface IBucketEvent {
  bucket: string;
  time: string;
  operation: string | null;
  requester: string | null;
}

/** The events a Smarts3 instance emits (listening to any of them subscribes the server). */
export interface ISmarts3Events {
  objectCreated: IObjectEvent;
  multipartCompleted: IObjectEvent;
  objectRemoved: IObjectEvent;
  bucketCreated: IBucketEvent;
  bucketRemoved: IBucketEvent;
  /** The listener fell behind by `count` changes (more than 4096 at once). */
  eventsMissed: { count: number };
  /** Every request, once answered (listening subscribes the server to request records). */
  request: IRequestRecord;
  /** The request listener fell behind by `count` records (more than 4096 at once). */
  requestsMissed: { count: number };
}

/** The IPC commands rusts3 understands in --management mode. */
export type TRusts3Commands = {
  start: { params: { config: ISmarts3Config }; result: IStartResult };
  stop: { params: Record<string, never>; result: Record<string, never> };
  createBucket: { params: { name: string }; result: { name: string; created: boolean } };
  listBuckets: { params: Record<string, never>; result: { buckets: IBucketSummary[] } };
  deleteBucket: { params: { name: string; force?: boolean }; result: { name: string; deleted: boolean } };
  emptyBucket: { params: { name: string }; result: { name: string } };
  reset: { params: Record<string, never>; result: { bucketsRemoved: number; bucketsSeeded: number } };
  getStats: { params: Record<string, never>; result: IServerStats };
  runLifecycle: { params: Record<string, never>; result: ILifecycleReport };
  getRequests: { params: { since?: number }; result: { requests: IRequestRecord[] } };
  setFaults: { params: { rules: IFaultRule[] }; result: { rules: IFaultRuleReport[] } };
  clearFaults: { params: Record<string, never>; result: { rules: IFaultRuleReport[] } };
  getFaults: { params: Record<string, never>; result: { rules: IFaultRuleReport[] } };
  subscribeEvents: { params: Record<string, never>; result: { subscribed: boolean } };
  unsubscribeEvents: { params: Record<string, never>; result: { subscribed: boolean } };
  subscribeRequests: { params: Record<string, never>; result: { subscribed: boolean } };
  unsubscribeRequests: { params: Record<string, never>; result: { subscribed: boolean } };
  waitForObject: {
    params: { bucket: string; key: string; timeoutMs?: number };
    result: { bucket: string; key: string; size: number };
  };
};
