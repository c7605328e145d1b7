export { Smarts3 } from './classes.smarts3.js';
export type {
  IBucketEvent,
  IBucketSummary,
  IFaultRule,
  IFaultRuleReport,
  IObjectEvent,
  IRequestRecord,
  ILifecycleReport,
  IServerStats,
  ISeedBucket,
  ISmarts3Config,
  ISmarts3ContructorOptions,
  ISmarts3Credential,
  ISmarts3Events,
  IStartResult,
  TSmarts3Options,
} from './interfaces.js';
