import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import * as z from 'zod';
import { TOKEN_PREFIX, type TokenEntry } from './entry.js';

const VERSION = 1;
const NONCE = 12;
const TAG = 16;
/** Binds the ciphertext to its purpose: a blob made for something else never opens as a token. */
const AAD = Buffer.from('coffer/batch-token/v1', 'utf8');
/** Batch tokens travel in headers; refuse to mint (or even try to open) anything bigger. */
export const MAX_BATCH_TOKEN_LENGTH = 8192;

/** The fields a batch token carries; short keys keep the token small. */
const payloadSchema = z.object({
  p: z.string().nullable(),
  po: z.array(z.string()),
  m: z.record(z.string(), z.string()),
  d: z.string(),
  i: z.number(),
  t: z.number(),
  pa: z.string(),
  e: z.string(),
  r: z.string(),
  n: z.string(),
  c: z.array(z.string()),
});

export type BatchFields = Pick<TokenEntry, 'parentId' | 'policies' | 'meta' | 'displayName' | 'issueTime' | 'creationTtl' | 'path' | 'entityId' | 'role' | 'namespace' | 'boundCidrs'>;

/**
 * Batch tokens: the entry itself, AES-256-GCM encrypted under a key that lives inside the
 * barrier, so nothing is stored. `cfb.` + base64url(version ‖ nonce ‖ ciphertext ‖ tag).
 */
export function sealBatch(key: Uint8Array, f: BatchFields): string {
  const payload = { p: f.parentId, po: f.policies, m: f.meta, d: f.displayName, i: f.issueTime, t: f.creationTtl, pa: f.path, e: f.entityId, r: f.role, n: f.namespace, c: f.boundCidrs };
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  const blob = Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
  return TOKEN_PREFIX.batch + blob.toString('base64url');
}

/** The fields of a batch token, or undefined for anything that is not one we made. */
export function openBatch(key: Uint8Array, token: string): BatchFields | undefined {
  if (!token.startsWith(TOKEN_PREFIX.batch) || token.length > MAX_BATCH_TOKEN_LENGTH) return undefined;
  const text = token.slice(TOKEN_PREFIX.batch.length);
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const blob = Buffer.from(text, 'base64url');
  if (blob.byteLength < 1 + NONCE + TAG || blob[0] !== VERSION) return undefined;
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(1, 1 + NONCE));
    decipher.setAAD(AAD);
    decipher.setAuthTag(blob.subarray(blob.byteLength - TAG));
    plain = Buffer.concat([decipher.update(blob.subarray(1 + NONCE, blob.byteLength - TAG)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
  const parsed = payloadSchema.safeParse(JSON.parse(plain));
  if (!parsed.success) return undefined;
  const p = parsed.data;
  return { parentId: p.p, policies: p.po, meta: p.m, displayName: p.d, issueTime: p.i, creationTtl: p.t, path: p.pa, entityId: p.e, role: p.r, namespace: p.n, boundCidrs: p.c };
}
