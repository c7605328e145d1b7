#!/usr/bin/env node
// `npm start`: a server on 127.0.0.1 with the default embedded storage (.nogit/bucketsDir),
// started through the Smarts3 wrapper exactly as a user would. Ctrl-C / SIGTERM stops it.
// Options via env: SMARTS3_PORT (default 3000), SMARTS3_DIRECTORY.
import { Smarts3 } from '../dist_ts/index.js';

const smarts3 = await Smarts3.createAndStart({
  server: { port: Number(process.env.SMARTS3_PORT ?? 3000), address: '127.0.0.1' },
  storage: process.env.SMARTS3_DIRECTORY ? { directory: process.env.SMARTS3_DIRECTORY } : {},
});
const d = await smarts3.getS3Descriptor();
console.log(`smarts3 is running
  endpoint:          http://${d.endpoint}:${d.port}
  region:            ${d.region}
  accessKeyId:       ${d.accessKey}
  secretAccessKey:   ${d.accessSecret}
  storage directory: ${smarts3.config.storage.directory}
Press Ctrl-C to stop.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await smarts3.stop();
    console.log('smarts3 stopped');
    process.exit(0);
  });
}
