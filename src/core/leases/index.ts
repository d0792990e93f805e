export { DEFAULT_MAX_LEASES, ExpirationManager } from './manager.js';
export type { ExpirationDeps, IssuingMount, RegisterInput, RevokeSummary } from './manager.js';
export { LeaseStore } from './store.js';
export { leaseStage } from './stage.js';
export type { LeaseRecord } from './record.js';
export { checkLeaseId } from './record.js';
