// Jest global teardown: stops the server `./jest-setup` started (both run in Jest's main process).
import type { IRunningTestServer } from './index.js';

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { __smarts3TestServer?: IRunningTestServer };
  await holder.__smarts3TestServer?.stop();
  delete holder.__smarts3TestServer;
}
