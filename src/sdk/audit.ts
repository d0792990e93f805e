import * as z from 'zod';
import { CofferClientError } from './errors.js';
import type { Requester } from './sys.js';

const deviceSchema = z.looseObject({
  type: z.string(),
  description: z.string().default(''),
  options: z.record(z.string(), z.string()).nullable().default(null),
  local: z.boolean().default(false),
  path: z.string().optional(),
});
export type AuditDeviceInfo = z.infer<typeof deviceSchema>;

export interface EnableAuditRequest {
  type: string;
  description?: string;
  /** Device options, all strings (Vault's rule), e.g. `{ file_path: '/var/log/coffer/audit.log' }`. */
  options?: Record<string, string>;
  local?: boolean;
}

export interface CheckpointClaim {
  chain: string;
  seq: number;
  prev_hash: string;
  time: string;
  reason: string;
  mac: string;
}

const verifySchema = z.object({
  chain: z.string(),
  results: z.array(z.boolean()),
  latest: z.object({ seq: z.number(), hash: z.string(), prev_hash: z.string(), time: z.string(), reason: z.string() }).nullable(),
});
export type CheckpointVerification = z.infer<typeof verifySchema>;

function dataOf(body: unknown, what: string): Record<string, unknown> {
  if (typeof body === 'object' && body !== null && 'data' in body && typeof body.data === 'object' && body.data !== null) {
    return body.data as Record<string, unknown>;
  }
  throw new CofferClientError(`unexpected response from ${what}: no data`);
}

/**
 * Audit devices (`sys/audit*`). Most calls need a token with sudo.
 * @example
 * const audit = new AuditApi(client);
 * await audit.enable('file', { type: 'file', options: { file_path: '/var/log/coffer/audit.log' } });
 */
export class AuditApi {
  readonly #client: Requester;

  constructor(client: Requester) {
    this.#client = client;
  }

  /** The enabled devices by path (`file/`, ...). @example `const devices = await audit.list();` */
  async list(): Promise<Record<string, AuditDeviceInfo>> {
    const res = await this.#client.request('GET', 'sys/audit');
    const out: Record<string, AuditDeviceInfo> = {};
    for (const [path, v] of Object.entries(dataOf(res.body, 'GET sys/audit'))) {
      const parsed = deviceSchema.safeParse(v);
      if (!parsed.success) throw new CofferClientError(`unexpected response from GET sys/audit: bad entry for ${path}`);
      out[path] = parsed.data;
    }
    return out;
  }

  /** Enables a device at `path`. @example `await audit.enable('siem', { type: 'http', options: { url: 'https://siem:8088/services/collector/raw' } });` */
  async enable(path: string, request: EnableAuditRequest): Promise<void> {
    await this.#client.request('PUT', `sys/audit/${path}`, request);
  }

  /** Disables the device at `path` (no error when there is none). @example `await audit.disable('file');` */
  async disable(path: string): Promise<void> {
    await this.#client.request('DELETE', `sys/audit/${path}`);
  }

  /** The `hmac-sha256:...` form `input` takes in that device's entries. @example `const h = await audit.hash('file', 'my-token');` */
  async hash(path: string, input: string): Promise<string> {
    const res = await this.#client.request('POST', `sys/audit-hash/${path}`, { input });
    const hash = dataOf(res.body, 'POST sys/audit-hash').hash;
    if (typeof hash !== 'string') throw new CofferClientError('unexpected response from sys/audit-hash: no hash');
    return hash;
  }

  /** Checks checkpoint MACs with the device's key and returns its latest checkpoint. @example `const v = await audit.verifyCheckpoints('file', claims);` */
  async verifyCheckpoints(path: string, checkpoints: readonly CheckpointClaim[]): Promise<CheckpointVerification> {
    const res = await this.#client.request('POST', `sys/audit-verify/${path}`, { checkpoints });
    const parsed = verifySchema.safeParse(dataOf(res.body, 'POST sys/audit-verify'));
    if (!parsed.success) throw new CofferClientError('unexpected response from sys/audit-verify');
    return parsed.data;
  }
}
