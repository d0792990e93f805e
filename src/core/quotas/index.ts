export { DEFAULT_EXEMPT_PATHS, QuotaStore, checkQuotaName, type MountOf, type QuotaConfig, type RateLimitInput, type RateLimitQuota } from './store.js';
export { exemptMatcher, type QuotaGate, type QuotaVerdict, type RateLimitRule } from './limiter.js';
