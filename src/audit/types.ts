import * as z from 'zod';
import type { Logger } from '../util/logger.js';

/**
 * The device contract: what every audit device (file, syslog, socket, http) implements. A device
 * only moves finished lines to its destination; the hash chain, HMAC and checkpoints live above
 * it (chain.ts), so every device gets them the same way. test/audit/device-contract.ts holds the
 * suite that every device passes.
 */
export interface AuditDevice {
  /** Opens the destination (file, connection). Rejects when it can't; write() retries opening. */
  open(): Promise<void>;
  /**
   * Writes the lines (no trailing newlines) in order, in one write where the medium allows it.
   * Resolves only once every line is written (and synced, when the device was asked to);
   * rejects otherwise. Never called again before the previous call settled.
   */
  write(lines: readonly string[]): Promise<void>;
  /** Releases and reacquires the destination (SIGHUP, for log rotation). */
  reopen(): Promise<void>;
  /** Lets what was accepted reach the destination, then releases it. */
  close(): Promise<void>;
}

export interface DeviceEnv {
  readonly logger: Logger;
}

/** One kind of device: its own options (beyond the common ones) and how to build it. */
export interface DeviceType {
  /** Device-specific option names; anything else that is not a common option is refused. */
  readonly options: readonly string[];
  /** Options whose values are secrets (e.g. http `headers`): shown redacted in listings. */
  readonly secretOptions?: readonly string[];
  /** Validates the options (CofferError 'invalid_request' otherwise) and builds the device, unopened. */
  create(options: Readonly<Record<string, string>>, env: DeviceEnv): AuditDevice;
}

/** An entry of the audit device table, stored at core/audit inside the barrier. */
export const auditTableEntrySchema = z.object({
  path: z.string(),
  type: z.string(),
  description: z.string(),
  options: z.record(z.string(), z.string()),
  local: z.boolean(),
  uuid: z.string(),
});
export type AuditTableEntry = z.infer<typeof auditTableEntrySchema>;

/** What a device's checkpoint records; the latest one is kept in storage to catch truncation. */
export const storedCheckpointSchema = z.object({
  seq: z.number().int().nonnegative(),
  /** The checkpoint line's own hash (what the next line's prev_hash names). */
  hash: z.string(),
  prev_hash: z.string(),
  time: z.string(),
  reason: z.string(),
});
export type StoredCheckpoint = z.infer<typeof storedCheckpointSchema>;

/** Why a checkpoint was written. The first line of every file a device opens is one. */
export type CheckpointReason =
  | 'enable' // a new chain (seq 1)
  | 'resume' // after an unseal or a restart, continuing from the stored checkpoint
  | 'open' // the first line of a reopened (rotated) file
  | 'rotate' // the last line of a file before reopening
  | 'interval' // every N entries or T seconds
  | 'seal' // shutdown or seal
  | 'disable'; // the device is being disabled

/** The checkpoint fields the server authenticates (sent back by `coffer audit verify --server`). */
export interface CheckpointClaim {
  readonly chain: string;
  readonly seq: number;
  readonly prev_hash: string;
  readonly time: string;
  readonly reason: string;
  readonly mac: string;
}

/** Where a request path is mounted, for the entries' mount_type/mount_point/mount_accessor. */
export interface MountRef {
  readonly type: string;
  readonly path: string;
  readonly accessor: string;
}
