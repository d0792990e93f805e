import * as z from 'zod';
import type { Storage, StorageOp } from '../storage/types.js';
import { getJson, jsonOp } from '../storage/view.js';
import { CofferError } from '../util/errors.js';
import { auditTableEntrySchema, storedCheckpointSchema, type AuditTableEntry, type StoredCheckpoint } from './types.js';

/**
 * Where audit state lives, all inside the barrier: the device table at core/audit and, per
 * device, its HMAC salt, its checkpoint key and its latest checkpoint under audit/<uuid>/.
 */
export const AUDIT_TABLE_KEY = 'core/audit';
const deviceKey = (uuid: string, name: 'salt' | 'chain-key' | 'checkpoint'): string => `audit/${uuid}/${name}`;

export interface DeviceSecrets {
  readonly salt: Buffer | undefined;
  readonly key: Buffer | undefined;
  readonly checkpoint: StoredCheckpoint | undefined;
}

export class AuditStore {
  readonly #storage: Storage;

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  async loadTable(): Promise<AuditTableEntry[]> {
    const raw = await getJson(this.#storage, AUDIT_TABLE_KEY);
    if (raw === undefined) return [];
    const parsed = z.array(auditTableEntrySchema).safeParse(raw);
    if (!parsed.success) throw new CofferError('tampered', 'the stored audit device table is malformed');
    return parsed.data;
  }

  async loadSecrets(uuid: string): Promise<DeviceSecrets> {
    const [salt, key, cp] = await Promise.all([
      this.#storage.get(deviceKey(uuid, 'salt')),
      this.#storage.get(deviceKey(uuid, 'chain-key')),
      getJson(this.#storage, deviceKey(uuid, 'checkpoint')),
    ]);
    const checkpoint = cp === undefined ? undefined : storedCheckpointSchema.safeParse(cp);
    if (checkpoint && !checkpoint.success) throw new CofferError('tampered', 'a stored audit checkpoint is malformed');
    return { salt: salt && Buffer.from(salt), key: key && Buffer.from(key), checkpoint: checkpoint?.data };
  }

  /** The new table, the new device's salt and key (and first checkpoint), all or nothing. */
  async saveEnabled(table: readonly AuditTableEntry[], uuid: string, salt: Uint8Array, key: Uint8Array, checkpoint: StoredCheckpoint | undefined): Promise<void> {
    const ops: StorageOp[] = [
      jsonOp(AUDIT_TABLE_KEY, table),
      { kind: 'put', key: deviceKey(uuid, 'salt'), value: salt },
      { kind: 'put', key: deviceKey(uuid, 'chain-key'), value: key },
    ];
    if (checkpoint) ops.push(jsonOp(deviceKey(uuid, 'checkpoint'), checkpoint));
    await this.#storage.transaction(ops);
  }

  async saveTable(table: readonly AuditTableEntry[]): Promise<void> {
    await this.#storage.transaction([jsonOp(AUDIT_TABLE_KEY, table)]);
  }

  async saveCheckpoint(uuid: string, checkpoint: StoredCheckpoint): Promise<void> {
    await this.#storage.transaction([jsonOp(deviceKey(uuid, 'checkpoint'), checkpoint)]);
  }

  /** A disabled device's salt and key go: a re-enabled device gets new ones (as in Vault). */
  async deleteDevice(uuid: string): Promise<void> {
    await this.#storage.transaction((['salt', 'chain-key', 'checkpoint'] as const).map((n) => ({ kind: 'delete' as const, key: deviceKey(uuid, n) })));
  }
}

/** Storage writes are synchronous fsyncs with SQLite: interval checkpoints are kept at most once a second. */
const MIN_PERSIST_INTERVAL_MS = 1000;

/**
 * Keeps a device's latest checkpoint in storage, off the hot path: writes are coalesced (only
 * the newest pending one is written) and spaced; `flush` writes what is pending now (seal).
 */
export class CheckpointPersister {
  readonly #save: (cp: StoredCheckpoint) => Promise<void>;
  readonly #onError: (e: unknown) => void;
  #latest: StoredCheckpoint | undefined;
  #pending: StoredCheckpoint | undefined;
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastWrite = 0;
  #active = false;
  #urgent = false;

  constructor(initial: StoredCheckpoint | undefined, save: (cp: StoredCheckpoint) => Promise<void>, onError: (e: unknown) => void) {
    this.#latest = initial;
    this.#save = save;
    this.#onError = onError;
  }

  /** The newest checkpoint written to the device (it may not be in storage yet). */
  get latest(): StoredCheckpoint | undefined { return this.#latest; }

  /** Starts writing to storage (held back until the device is in the stored table). */
  activate(): void {
    this.#active = true;
    if (this.#pending) this.#schedule(true);
  }


  record(cp: StoredCheckpoint, urgent: boolean): void {
    this.#latest = cp;
    this.#pending = cp;
    this.#urgent ||= urgent;
    if (this.#active) this.#schedule(this.#urgent);
  }

  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    if (this.#active && this.#pending) await this.#write();
  }

  stop(): void {
    this.#active = false;
    this.#pending = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(urgent: boolean): void {
    if (this.#writing) return;
    if (this.#timer) {
      if (!urgent) return;
      clearTimeout(this.#timer);
    }
    const wait = urgent ? 0 : Math.max(0, this.#lastWrite + MIN_PERSIST_INTERVAL_MS - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#write();
    }, wait);
    this.#timer.unref();
  }

  #write(): Promise<void> {
    const cp = this.#pending;
    if (!cp || !this.#active) return Promise.resolve();
    this.#pending = undefined;
    this.#urgent = false;
    this.#lastWrite = Date.now();
    this.#writing = this.#save(cp).catch(this.#onError).finally(() => {
      this.#writing = undefined;
      if (this.#pending && this.#active) this.#schedule(this.#urgent);
    });
    return this.#writing;
  }
}
