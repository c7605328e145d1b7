// Vitest global setup: `globalSetup: ['@push.rocks/smarts3/testing/vitest']` in vitest.config.
// One server for the run; test files reach it through `s3Env()` / `s3ClientConfig()`.
import { startTestS3 } from './index.js';

export default async function setup(): Promise<() => Promise<void>> {
  const running = await startTestS3();
  return running.stop;
}
