export { AuditBroker, type AuditBrokerDeps, type AuditDeviceInfo, type CheckpointVerification, type EnableRequest, type SignalSource } from './broker.js';
export { ChainedDevice, type ChainEvents, type ChainHead, type ChainIdentity, type ChainOptions } from './chain.js';
export { DEVICE_TYPES } from './devices/index.js';
export { HMAC_PREFIX, Salter } from './hmac.js';
export { GENESIS_HASH, chainLine, parseChainLine } from './line.js';
export { stringOptions } from './options.js';
export type { AuditDevice, AuditTableEntry, CheckpointClaim, CheckpointReason, DeviceType, MountRef, StoredCheckpoint } from './types.js';
export { checkAgainstServer, verifyLines, type IssueKind, type SourceLine, type VerifyIssue, type VerifyReport } from './verify.js';
export { readAuditLines, verifyFiles } from './verify-files.js';
