// The one place that imports dependencies (push.rocks convention).

// node native
import * as childProcess from 'node:child_process';
import * as events from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as url from 'node:url';
import * as util from 'node:util';

export { childProcess, events, fs, os, path, url, util };

// @push.rocks scope
import * as smartrust from '@push.rocks/smartrust';

export { smartrust };

/**
 * SmartBucket, loaded on first use: importing it (and the AWS SDK it brings) takes ~300 ms,
 * most of what a test process would otherwise spend before its first request.
 */
export const loadSmartbucket = () => import('@push.rocks/smartbucket');

// @tsclass scope (types only)
import type * as tsclass from '@tsclass/tsclass';

export type { tsclass };
