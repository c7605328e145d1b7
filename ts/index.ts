export { Smarts3 } from './classes.smarts3.js';
export type {
  IBucketSummary,
  IServerStats,
  ISmarts3Config,
  ISmarts3ContructorOptions,
  ISmarts3Credential,
  IStartResult,
  TSmarts3Options,
} from './interfaces.js';
