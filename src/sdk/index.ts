export { CofferClient } from './client.js';
export type { ApiResponse, CofferClientOptions, HttpMethod, RequestOptions } from './client.js';
export { CofferApiError, CofferClientError, isCofferApiError } from './errors.js';
export { DEFAULT_ADDRESS, TOKEN_FILE_NAME, settingsFromEnv } from './env.js';
export type { EnvSettings } from './env.js';
export { SysApi } from './sys.js';
export { AuditApi } from './audit.js';
export { KvApi, joinKvPath, kvV2Path, parseKvVersions, sanitizeKvPath } from './kv.js';
export type { KvLocation, KvMetadataInput, KvV2Prefix, KvWriteOptions } from './kv.js';
export { AuthApi, TokenApi } from './token.js';
export type { TokenCreateRequest } from './token.js';
export { PolicyApi } from './policy.js';
export { MountsApi } from './mounts.js';
export type { MountConfigInput, MountInfo, MountInput } from './mounts.js';
export { WrappingApi } from './wrapping.js';
export type { AuditDeviceInfo, CheckpointClaim, CheckpointVerification, EnableAuditRequest } from './audit.js';
export type { Transport, WireRequest, WireResponse } from './transport.js';
export type {
  HealthQuery, HealthResponse, InitRequest, InitResponse, InitStatus, KeyStatus, LeaderResponse, ListSecret, RekeyInitRequest,
  RekeyStatus, RekeyUpdateResponse, SealStatus, Secret, SecretAuth, UnsealRequest, WrapInfo,
} from './types.js';
