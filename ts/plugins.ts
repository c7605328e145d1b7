// The one place that imports dependencies (push.rocks convention).

// node native
import * as childProcess from 'node:child_process';
import * as events from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as url from 'node:url';
import * as util from 'node:util';

export { childProcess, events, fs, path, url, util };

// @push.rocks scope
import * as smartbucket from '@push.rocks/smartbucket';
import * as smartrust from '@push.rocks/smartrust';

export { smartbucket, smartrust };

// @tsclass scope
import * as tsclass from '@tsclass/tsclass';

export { tsclass };
