/** The plain objects that travel the pipeline. Nothing here knows about HTTP. */

export type Operation = 'read' | 'create' | 'update' | 'patch' | 'delete' | 'list';
export const OPERATIONS: readonly Operation[] = ['read', 'create', 'update', 'patch', 'delete', 'list'];

export interface CoreRequest {
  readonly id: string;
  readonly operation: Operation;
  /** As received: still percent-encoded, without `/v1/` or the query. The pipeline normalizes it. */
  readonly path: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly token: string | undefined;
  readonly clientIp: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Seconds, from X-Vault-Wrap-TTL or a `wrap_ttl` field. */
  readonly wrapTtl: number | undefined;
  /** Only 'root' exists for now; every store is keyed by it so child namespaces are additive. */
  readonly namespace: string;
  /** `?help=1`: answer with the path's help and OpenAPI instead of running the operation. */
  readonly help?: boolean;
}

export interface AuthResult {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies: string[];
  identity_policies?: string[];
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
  entity_id: string;
  token_type: 'service' | 'batch';
  orphan: boolean;
  num_uses: number;
  mfa_requirement?: null;
}

export interface WrapInfo {
  token: string;
  accessor: string;
  ttl: number;
  creation_time: string;
  creation_path: string;
  wrapped_accessor?: string;
}

export interface SecretLease {
  /** Full lease id; filled in by the pipeline when the backend returns `lease`. */
  leaseId: string;
  ttl: number;
  renewable: boolean;
}

export interface CoreResponse {
  data?: Record<string, unknown> | null;
  auth?: AuthResult;
  /** A backend asks for a lease by returning a TTL; the expiration manager names it. */
  lease?: { ttl: number; renewable: boolean; internal?: Record<string, unknown>; /** The role's cap in seconds (0 = the mount's). */ maxTtl?: number };
  secret?: SecretLease;
  warnings?: string[];
  wrapInfo?: WrapInfo;
  /** A response body that replaces Vault's envelope (sys/init, seal-status, health, ...). */
  raw?: { status: number; body: unknown };
  /** 204 when nothing is returned. */
  noContent?: boolean;
  /** Status for an envelope response (e.g. 404 for a KV v2 deleted version with metadata). */
  status?: number;
  mountType?: string;
}
