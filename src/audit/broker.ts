import { randomBytes, randomUUID } from 'node:crypto';
import type { Caller } from '../core/framework.js';
import { normalizeMountPath } from '../core/mounts.js';
import type { AuditSink } from '../core/pipeline.js';
import type { CoreRequest, CoreResponse } from '../core/request.js';
import type { Storage } from '../storage/types.js';
import { CofferError, invalid } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { ChainedDevice } from './chain.js';
import { DEVICE_TYPES, UnusableDevice } from './devices/index.js';
import { requestEntryText, responseEntryText, sharedParts, type EntrySource, type SharedParts } from './format.js';
import { CallerHashCache, Salter, cachedHasher, rawHasher, type ValueHasher } from './hmac.js';
import { GENESIS_HASH, checkpointMacValid } from './line.js';
import { assertKnownOptions, parseCommonOptions, type CommonOptions } from './options.js';
import { AuditStore, CheckpointPersister } from './store.js';
import type { AuditDevice, AuditTableEntry, CheckpointClaim, CheckpointReason, DeviceType, MountRef, StoredCheckpoint } from './types.js';

/** Never audited, as in Vault (all but sys/seal are served before the pipeline anyway). */
const NOT_AUDITED = new Set(['sys/init', 'sys/seal-status', 'sys/seal', 'sys/unseal', 'sys/health', 'sys/leader']);
/** Checkpoints that open or close a file are stored at once; interval ones are spaced. */
const URGENT: ReadonlySet<string> = new Set<CheckpointReason>(['enable', 'resume', 'open', 'rotate', 'seal', 'disable']);
const FAILURE_LOG_INTERVAL_MS = 5000;

export interface SignalSource {
  on(event: 'SIGHUP', listener: () => void): unknown;
  off(event: 'SIGHUP', listener: () => void): unknown;
}

export interface AuditBrokerDeps {
  /** The barrier: the table, salts, keys and checkpoints live inside it. */
  readonly storage: Storage;
  readonly logger: Logger;
  /** The mount a request path falls under, for mount_type/mount_point in entries. */
  readonly mountOf?: (path: string) => MountRef | undefined;
  readonly deviceTypes?: ReadonlyMap<string, DeviceType>;
  /** Where SIGHUP (reopen files for log rotation) comes from; the process unless null. */
  readonly signals?: SignalSource | null;
  /** After each request or response logged while a device is enabled (`failed`: none wrote it): the metrics. */
  readonly onLogged?: (kind: 'request' | 'response', failed: boolean) => void;
}

export interface EnableRequest {
  readonly path: string;
  readonly type: string;
  readonly description?: string;
  readonly options?: Readonly<Record<string, string>>;
  readonly local?: boolean;
}

/** A device as sys/audit lists it (Vault's shape). */
export interface AuditDeviceInfo {
  path: string;
  type: string;
  description: string;
  options: Record<string, string>;
  local: boolean;
}

export interface CheckpointVerification {
  /** The device's chain id; a checkpoint from another chain (an earlier enable) never verifies. */
  chain: string;
  results: boolean[];
  /** The newest checkpoint the device wrote: a log that ends before it was cut. */
  latest: StoredCheckpoint | null;
}

interface Active {
  readonly entry: AuditTableEntry;
  readonly opts: CommonOptions;
  readonly salter: Salter;
  readonly key: Buffer;
  readonly chain: ChainedDevice;
  readonly persister: CheckpointPersister;
  lastFailureLog: number;
  suppressedFailures: number;
  readonly callerHashes: CallerHashCache;
}

/** Per request: the mount it hit and, per device, the hashes and shared entry parts already computed. */
interface RequestCache {
  readonly mount: MountRef | undefined;
  readonly hashes: Map<string, Map<string, string>>;
  readonly parts: Map<string, SharedParts>;
}

/**
 * The audit broker: the pipeline's AuditSink. It formats each request and response into one
 * entry per device (HMAC'd with that device's salt), hands them to the devices' chains and
 * waits: if at least one device is enabled and none wrote the entry, the request fails with
 * 500 and no body but `internal error`. It also owns the device table (enable, disable, list,
 * audit-hash, checkpoint verification).
 */
export class AuditBroker implements AuditSink {
  readonly #deps: AuditBrokerDeps;
  readonly #store: AuditStore;
  readonly #types: ReadonlyMap<string, DeviceType>;
  readonly #signals: SignalSource | null;
  #devices: readonly Active[] = [];
  #loaded = false;
  #lock: Promise<unknown> = Promise.resolve();
  readonly #cache = new WeakMap<CoreRequest, RequestCache>();
  readonly #onHup = (): void => void this.reopen();

  constructor(deps: AuditBrokerDeps) {
    this.#deps = deps;
    this.#store = new AuditStore(deps.storage);
    this.#types = deps.deviceTypes ?? DEVICE_TYPES;
    this.#signals = deps.signals === undefined ? process : deps.signals;
  }

  // ---- the pipeline's sink ------------------------------------------------------

  async logRequest(req: CoreRequest, path: string, caller: Caller | null): Promise<void> {
    if (NOT_AUDITED.has(path.replace(/\/$/, ''))) return;
    const devices = this.#active();
    if (devices.length === 0) return;
    const [src, cache] = this.#source(req, path, caller);
    await this.#counted('request', this.#write(devices, src, cache, (_d, _hash, parts) => requestEntryText(parts)));
  }

  async logResponse(req: CoreRequest, path: string, caller: Caller | null, res: CoreResponse | undefined, error: unknown): Promise<void> {
    if (NOT_AUDITED.has(path.replace(/\/$/, ''))) return;
    const devices = this.#active();
    if (devices.length === 0) return;
    const [src, cache] = this.#source(req, path, caller);
    try {
      await this.#counted('response', this.#write(devices, src, cache, (d, hash, parts) => responseEntryText(src, parts, res, hash, d.opts, error)));
    } finally {
      this.#cache.delete(req);
    }
  }

  #counted(kind: 'request' | 'response', written: Promise<void>): Promise<void> {
    const onLogged = this.#deps.onLogged;
    return onLogged ? written.then(() => onLogged(kind, false), (e: unknown) => { onLogged(kind, true); throw e; }) : written;
  }

  #active(): readonly Active[] {
    // A request still in flight while the server seals must not slip through unaudited.
    if (!this.#loaded) throw new CofferError('sealed', 'Vault is sealed');
    return this.#devices;
  }

  #source(req: CoreRequest, path: string, caller: Caller | null): [EntrySource, RequestCache] {
    let cache = this.#cache.get(req);
    if (!cache) {
      cache = { mount: this.#deps.mountOf?.(path), hashes: new Map(), parts: new Map() };
      this.#cache.set(req, cache);
    }
    return [{ req, path, caller, mount: cache.mount }, cache];
  }

  async #write(
    devices: readonly Active[], src: EntrySource, cache: RequestCache, build: (d: Active, hash: ValueHasher, parts: SharedParts) => string,
  ): Promise<void> {
    if (devices.length === 1) {
      // The common case, without a promise per device and a settled list.
      const d = devices[0]!;
      try {
        await d.chain.append(this.#body(d, src, cache, build));
        return;
      } catch (e) {
        this.#reportFailure(d, e);
        throw new CofferError('audit_failure', 'internal error');
      }
    }
    const settled = await Promise.allSettled(devices.map((d) => {
      let body: string;
      try {
        body = this.#body(d, src, cache, build);
      } catch (e) {
        return Promise.reject(e);
      }
      return d.chain.append(body);
    }));
    let written = 0;
    settled.forEach((r, i) => (r.status === 'fulfilled' ? (written += 1) : this.#reportFailure(devices[i]!, r.reason)));
    if (written === 0) throw new CofferError('audit_failure', 'internal error');
  }

  /** One device's entry text: values hashed once per request and device, shared parts built once. */
  #body(d: Active, src: EntrySource, cache: RequestCache, build: (d: Active, hash: ValueHasher, parts: SharedParts) => string): string {
    const { caller } = src;
    const id = d.entry.uuid;
    let memo = cache.hashes.get(id);
    if (!memo) {
      cache.hashes.set(id, (memo = new Map()));
      if (caller) d.callerHashes.seed(caller, memo);
    }
    const hash = d.opts.logRaw ? rawHasher : cachedHasher(d.salter, memo);
    let parts = cache.parts.get(id);
    if (!parts) cache.parts.set(id, (parts = sharedParts(src, hash, d.opts)));
    const body = build(d, hash, parts);
    if (caller) d.callerHashes.remember(caller, memo);
    return body;
  }

  /** Logged at most every few seconds per device: a dead collector must not flood the log. */
  #reportFailure(d: Active, reason: unknown): void {
    const now = Date.now();
    if (now - d.lastFailureLog < FAILURE_LOG_INTERVAL_MS) {
      d.suppressedFailures += 1;
      return;
    }
    this.#deps.logger.error({ device: d.entry.path, type: d.entry.type, err: { message: messageOf(reason) }, suppressed: d.suppressedFailures }, 'audit device failed to write an entry');
    d.lastFailureLog = now;
    d.suppressedFailures = 0;
  }

  // ---- lifecycle ----------------------------------------------------------------

  /** After unseal: loads the table and resumes every device's chain from its stored checkpoint. */
  load(): Promise<void> {
    return this.#serial(async () => {
      if (this.#loaded) return;
      const devices: Active[] = [];
      for (const entry of await this.#store.loadTable()) {
        const secrets = await this.#store.loadSecrets(entry.uuid);
        const cp = secrets.checkpoint;
        const { device, opts } = this.#build(entry, secrets.salt && secrets.key ? undefined : 'its salt or checkpoint key is missing from storage');
        const active = this.#activate(entry, opts, secrets.salt ?? randomBytes(32), secrets.key ?? randomBytes(32), device, cp, cp ? 'resume' : 'enable');
        active.persister.activate();
        active.chain.start().catch((e: unknown) => this.#reportFailure(active, e));
        devices.push(active);
      }
      this.#devices = devices;
      this.#loaded = true;
      this.#signals?.on('SIGHUP', this.#onHup);
    });
  }

  /** Before the barrier closes: a final checkpoint on every device, stored, then closed. */
  unload(): Promise<void> {
    return this.#serial(async () => {
      if (!this.#loaded) return;
      this.#loaded = false;
      this.#signals?.off('SIGHUP', this.#onHup);
      const devices = this.#devices;
      this.#devices = [];
      await Promise.all(devices.map((d) => this.#shutdown(d, 'seal')));
    });
  }

  /** SIGHUP: every device closes out its file with a checkpoint and reopens it (logrotate). */
  async reopen(): Promise<void> {
    await Promise.all(this.#devices.map((d) => d.chain.rotate().catch((e: unknown) => this.#reportFailure(d, e))));
  }

  // ---- the table ----------------------------------------------------------------

  list(): AuditDeviceInfo[] {
    this.#active();
    return this.#devices.map((d) => ({
      path: d.entry.path, type: d.entry.type, description: d.entry.description, options: this.#shownOptions(d.entry), local: d.entry.local,
    }));
  }

  enable(req: EnableRequest): Promise<void> {
    return this.#serial(async () => {
      this.#active();
      const path = normalizeMountPath(req.path);
      const clash = this.#devices.find((d) => d.entry.path.startsWith(path) || path.startsWith(d.entry.path));
      if (clash) throw invalid(`path already in use at ${clash.entry.path}`);
      const type = this.#types.get(req.type);
      if (!type) throw invalid(`unknown audit device type "${req.type}" (known: ${[...this.#types.keys()].join(', ')})`);
      const options = { ...req.options };
      assertKnownOptions(options, type.options, req.type);
      const opts = parseCommonOptions(options);
      const entry: AuditTableEntry = { path, type: req.type, description: req.description ?? '', options, local: req.local ?? false, uuid: randomUUID() };
      const device = type.create(options, { logger: this.#deps.logger });
      const salt = randomBytes(32);
      const key = randomBytes(32);
      const active = this.#activate(entry, opts, salt, key, device, undefined, 'enable');
      try {
        if (!opts.skipTest) await active.chain.start();
      } catch (e) {
        await active.chain.abort().catch(() => undefined);
        throw invalid(`audit device ${path} failed its test write: ${messageOf(e)}`);
      }
      try {
        await this.#store.saveEnabled([...this.#devices.map((d) => d.entry), entry], entry.uuid, salt, key, active.persister.latest);
      } catch (e) {
        await active.chain.abort().catch(() => undefined);
        throw e;
      }
      active.persister.activate();
      if (opts.skipTest) active.chain.start().catch((e: unknown) => this.#reportFailure(active, e));
      this.#devices = [...this.#devices, active];
    });
  }

  /** Disabling a path that has no device is not an error (as Vault). */
  disable(rawPath: string): Promise<void> {
    return this.#serial(async () => {
      this.#active();
      const path = normalizeMountPath(rawPath);
      const d = this.#devices.find((x) => x.entry.path === path);
      if (!d) return;
      await this.#store.saveTable(this.#devices.filter((x) => x !== d).map((x) => x.entry));
      this.#devices = this.#devices.filter((x) => x !== d);
      await this.#shutdown(d, 'disable');
      await this.#store.deleteDevice(d.entry.uuid);
    });
  }

  /** sys/audit-hash: what `input` looks like in this device's entries. */
  hash(rawPath: string, input: string): string {
    return this.#find(rawPath).salter.hmac(input);
  }

  /** Checks checkpoint MACs with the device's key, which never leaves the server. */
  verifyCheckpoints(rawPath: string, claims: readonly CheckpointClaim[]): CheckpointVerification {
    const d = this.#find(rawPath);
    return {
      chain: d.entry.uuid,
      results: claims.map((c) => c.chain === d.entry.uuid && checkpointMacValid(d.key, c)),
      latest: d.persister.latest ?? null,
    };
  }

  #find(rawPath: string): Active {
    const path = normalizeMountPath(rawPath);
    const d = this.#active().find((x) => x.entry.path === path);
    if (!d) throw invalid(`unknown audit device "${path}"`);
    return d;
  }

  /** Builds a device from its entry; one that can no longer be built fails every write (fail closed) until disabled. */
  #build(entry: AuditTableEntry, broken?: string): { device: AuditDevice; opts: CommonOptions } {
    const type = this.#types.get(entry.type);
    try {
      if (broken) throw new Error(broken);
      if (!type) throw new Error(`unknown audit device type "${entry.type}"`);
      assertKnownOptions(entry.options, type.options, entry.type);
      return { opts: parseCommonOptions(entry.options), device: type.create(entry.options, { logger: this.#deps.logger }) };
    } catch (e) {
      const reason = `audit device ${entry.path} cannot be used: ${messageOf(e)}`;
      this.#deps.logger.error({ device: entry.path }, reason);
      return { opts: parseCommonOptions({}), device: new UnusableDevice(reason) };
    }
  }

  #activate(
    entry: AuditTableEntry, opts: CommonOptions, salt: Buffer, key: Buffer, device: AuditDevice,
    stored: StoredCheckpoint | undefined, opening: CheckpointReason,
  ): Active {
    const persister = new CheckpointPersister(stored, (cp) => this.#store.saveCheckpoint(entry.uuid, cp), (e) => {
      this.#deps.logger.error({ device: entry.path, err: { message: messageOf(e) } }, 'could not store an audit checkpoint');
    });
    const active: Active = {
      entry, opts, key, persister, salter: new Salter(salt), lastFailureLog: 0, suppressedFailures: 0, callerHashes: new CallerHashCache(),
      chain: new ChainedDevice(
        device,
        { chain: entry.uuid, device: entry.path, key },
        stored ? { seq: stored.seq, hash: stored.hash } : { seq: 0, hash: GENESIS_HASH },
        opening,
        { prefix: opts.prefix, checkpointEntries: opts.checkpointEntries, checkpointIntervalMs: opts.checkpointIntervalMs },
        { onCheckpoint: (cp) => persister.record(cp, URGENT.has(cp.reason)), onBackgroundError: (e) => this.#reportFailure(active, e) },
      ),
    };
    return active;
  }

  async #shutdown(d: Active, reason: CheckpointReason): Promise<void> {
    try {
      await d.chain.close(reason);
    } catch (e) {
      this.#deps.logger.error({ device: d.entry.path, err: { message: messageOf(e) } }, 'audit device failed to close cleanly');
    }
    // A disabled device's checkpoint is deleted with its salt, so there is nothing to store.
    if (reason !== 'disable') await d.persister.flush();
    d.persister.stop();
    d.key.fill(0);
    d.salter.zero();
  }

  #shownOptions(entry: AuditTableEntry): Record<string, string> {
    const secret = this.#types.get(entry.type)?.secretOptions ?? [];
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(entry.options)) out[k] = secret.includes(k) ? '<redacted>' : v;
    return out;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
