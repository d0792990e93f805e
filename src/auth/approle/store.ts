import { createHmac, randomBytes } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import * as z from 'zod';
import { parseCidr } from '../../core/tokens/cidr.js';
import type { Storage } from '../../storage/types.js';
import { getJson, putJson } from '../../storage/view.js';
import { invalid } from '../../util/errors.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import { legacyTokenSchema, tokenParamsSchema } from '../common/token-params.js';

/** Vault's maxHmacInputLength: role names and secret IDs longer than this are refused. */
export const MAX_HMAC_INPUT = 4096;

export const roleSchema = z.object({
  name: z.string(),
  roleId: z.string(),
  /** Per-role key for the HMACs under which secret IDs are stored (they are never stored as such). */
  hmacKey: z.string(),
  bindSecretId: z.boolean(),
  secretIdNumUses: z.number(),
  secretIdTtl: z.number(),
  secretIdBoundCidrs: z.array(z.string()),
  localSecretIds: z.boolean(),
  token: tokenParamsSchema,
  legacy: legacyTokenSchema,
});
export type AppRole = z.infer<typeof roleSchema>;

export const secretIdSchema = z.object({
  accessor: z.string(),
  /** Uses left; 0 = unlimited. */
  numUses: z.number(),
  ttl: z.number(),
  /** Unix ms. */
  creationTime: z.number(),
  /** Unix ms; 0 = never expires. */
  expirationTime: z.number(),
  lastUpdatedTime: z.number(),
  metadata: z.record(z.string(), z.string()),
  cidrList: z.array(z.string()),
  tokenBoundCidrs: z.array(z.string()),
});
export type SecretIdEntry = z.infer<typeof secretIdSchema>;

const accessorSchema = z.object({ secretIdHmac: z.string(), roleName: z.string() });

export const hmac = (key: string, value: string): string => {
  if (value.length > MAX_HMAC_INPUT) throw invalid(`value is longer than maximum of ${MAX_HMAC_INPUT} bytes`);
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
};

/**
 * The AppRole mount's records, all in its own storage: roles, a role_id → role index, secret IDs
 * (stored under HMACs of the role name and the secret ID with the role's key) and an accessor
 * index; the index keys are HMACs with a salt kept in the same storage.
 */
export class AppRoleStore {
  readonly storage: Storage;
  /** Role changes and secret-ID uses are read-modify-write: one at a time per key. */
  readonly lock = new KeyedLock();
  #salt: string | undefined;

  constructor(storage: Storage) {
    this.storage = storage;
  }

  async salted(kind: 'role_id' | 'accessor', value: string): Promise<string> {
    if (this.#salt === undefined) {
      this.#salt = await this.lock.run('salt', async () => {
        const raw = await getJson(this.storage, 'salt');
        if (typeof raw === 'string') return raw;
        const fresh = randomBytes(32).toString('hex');
        await putJson(this.storage, 'salt', fresh);
        return fresh;
      });
    }
    return hmac(this.#salt, `${kind}:${value}`);
  }

  async readRole(name: string): Promise<AppRole | undefined> {
    const raw = await getJson(this.storage, `role/${name}`);
    return raw === undefined ? undefined : roleSchema.parse(raw);
  }

  async roleByRoleId(roleId: string): Promise<AppRole | undefined> {
    if (roleId === '' || roleId.length > MAX_HMAC_INPUT) return undefined;
    const raw = await getJson(this.storage, `role_id/${await this.salted('role_id', roleId)}`);
    const name = z.object({ name: z.string() }).safeParse(raw);
    if (!name.success) return undefined;
    const role = await this.readRole(name.data.name);
    return role && role.roleId === roleId ? role : undefined;
  }

  /** Stores a role and moves its role_id index; a role_id another role has is refused. */
  async writeRole(role: AppRole, previousRoleId: string): Promise<void> {
    const indexKey = `role_id/${await this.salted('role_id', role.roleId)}`;
    const owner = z.object({ name: z.string() }).safeParse(await getJson(this.storage, indexKey));
    if (owner.success && owner.data.name !== role.name && (await this.readRole(owner.data.name))?.roleId === role.roleId) {
      throw invalid('role_id already in use');
    }
    if (previousRoleId !== '' && previousRoleId !== role.roleId) await this.storage.delete(`role_id/${await this.salted('role_id', previousRoleId)}`);
    await putJson(this.storage, indexKey, { name: role.name });
    await putJson(this.storage, `role/${role.name}`, role);
  }

  /** Deletes a role with its secret IDs and index entries. */
  async deleteRole(role: AppRole): Promise<void> {
    await this.flushSecretIds(role);
    await this.storage.delete(`role_id/${await this.salted('role_id', role.roleId)}`);
    await this.storage.delete(`role/${role.name}`);
  }

  secretKey(role: AppRole, secretIdHmac: string): string {
    return `secret-id/${hmac(role.hmacKey, role.name)}/${secretIdHmac}`;
  }

  async readSecretId(role: AppRole, secretIdHmac: string): Promise<SecretIdEntry | undefined> {
    const raw = await getJson(this.storage, this.secretKey(role, secretIdHmac));
    return raw === undefined ? undefined : secretIdSchema.parse(raw);
  }

  async readAccessor(accessor: string): Promise<z.infer<typeof accessorSchema> | undefined> {
    if (accessor === '' || accessor.length > MAX_HMAC_INPUT) return undefined;
    const parsed = accessorSchema.safeParse(await getJson(this.storage, `accessor/${await this.salted('accessor', accessor)}`));
    return parsed.success ? parsed.data : undefined;
  }

  async putSecretId(role: AppRole, secretIdHmac: string, entry: SecretIdEntry): Promise<void> {
    const accessorKey = `accessor/${await this.salted('accessor', entry.accessor)}`;
    await this.storage.transaction([
      { kind: 'put', key: accessorKey, value: Buffer.from(JSON.stringify({ secretIdHmac, roleName: role.name })) },
      { kind: 'put', key: this.secretKey(role, secretIdHmac), value: Buffer.from(JSON.stringify(entry)) },
    ]);
  }

  async deleteSecretId(role: AppRole, secretIdHmac: string, accessor: string): Promise<void> {
    await this.storage.transaction([
      { kind: 'delete', key: `accessor/${await this.salted('accessor', accessor)}` },
      { kind: 'delete', key: this.secretKey(role, secretIdHmac) },
    ]);
  }

  /** Accessors of a role's live secret IDs. */
  async listAccessors(role: AppRole, now = Date.now()): Promise<string[]> {
    const out: string[] = [];
    const folder = `secret-id/${hmac(role.hmacKey, role.name)}/`;
    for (const key of await this.storage.list(folder)) {
      const parsed = secretIdSchema.safeParse(await getJson(this.storage, folder + key));
      if (parsed.success && !isExpired(parsed.data, now)) out.push(parsed.data.accessor);
    }
    return out.sort();
  }

  async flushSecretIds(role: AppRole): Promise<void> {
    const folder = `secret-id/${hmac(role.hmacKey, role.name)}/`;
    for (const key of await this.storage.list(folder)) {
      const parsed = secretIdSchema.safeParse(await getJson(this.storage, folder + key));
      if (parsed.success) await this.storage.delete(`accessor/${await this.salted('accessor', parsed.data.accessor)}`);
      await this.storage.delete(folder + key);
    }
  }
}

export const isExpired = (e: Pick<SecretIdEntry, 'expirationTime'>, now = Date.now()): boolean => e.expirationTime > 0 && e.expirationTime <= now;

/** Parses a list of CIDRs (or bare addresses), refusing anything else. */
export function cidrList(list: readonly string[], field: string): string[] {
  return list.map((c) => {
    const parsed = parseCidr(c);
    if (!parsed) throw invalid(`${field}: invalid CIDR block ${JSON.stringify(c)}`);
    return parsed;
  });
}

/** Every block of `inner` lies inside one block of `outer` (an empty `outer` bounds nothing). */
export function cidrSubset(inner: readonly string[], outer: readonly string[]): boolean {
  if (outer.length === 0) return true;
  return inner.every((block) => {
    const [addr = '', prefix = '0'] = block.split('/');
    const family = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
    return outer.some((o) => {
      const [net = '', oPrefix = '0'] = o.split('/');
      if ((isIP(net) === 4 ? 'ipv4' : 'ipv6') !== family || Number(prefix) < Number(oPrefix)) return false;
      const list = new BlockList();
      list.addSubnet(net, Number(oPrefix), family);
      return list.check(addr, family);
    });
  });
}
