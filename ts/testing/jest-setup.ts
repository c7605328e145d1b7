// Jest global setup: `globalSetup: '@push.rocks/smarts3/testing/jest-setup'` (with
// `globalTeardown: '@push.rocks/smarts3/testing/jest-teardown'`). Workers inherit the variables.
import { startTestS3 } from './index.js';
import type { IRunningTestServer } from './index.js';

export default async function globalSetup(): Promise<void> {
  (globalThis as { __smarts3TestServer?: IRunningTestServer }).__smarts3TestServer = await startTestS3();
}
