import { readdir, readFile, statfs } from 'node:fs/promises';
import { cpus, freemem, hostname, machine, release, totalmem, uptime } from 'node:os';
import { dirname, resolve } from 'node:path';
import * as z from 'zod';
import type { ListenerConfig, ServerConfig } from '../../config/index.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import { versionHistory } from '../../core/versions.js';
import type { Storage } from '../../storage/types.js';
import { invalid, notFound } from '../../util/errors.js';
import { levelNamed, type Logger } from '../../util/logger.js';
import { VERSION } from '../../version.js';

/** What the server was started with: the sys paths below only ever show its non-secret parts. */
export interface ServerInfo {
  readonly config: ServerConfig;
  /** The log level at start, which DELETE sys/loggers goes back to. */
  readonly logLevel: string;
}

export interface InfoPathDeps {
  /** The barrier, where each version's first unseal is recorded (see core/versions.ts). */
  readonly barrier: Storage;
  readonly logger: Pick<Logger, 'level'>;
  /** Absent when the core is embedded without a server (the benchmark): no config to show. */
  readonly server?: ServerInfo | undefined;
}

/** Coffer logs through one logger; it answers to the name Vault gives its core logger. */
const LOGGER_NAME = 'core';

const levelFields = z.object({ level: z.string().optional() });
const LEVEL_HELP = 'Log verbosity: "trace", "debug", "info", "warn" or "error".';

/**
 * sys/version-history, sys/ha-status, sys/host-info, sys/config/state/sanitized and sys/loggers:
 * what a Vault operator asks a server about itself.
 */
export function infoPaths(d: InfoPathDeps): PathSpec[] {
  const config = d.server?.config;
  const startLevel = d.server?.logLevel ?? d.logger.level;
  const currentLevel = (): string => (d.logger.level === 'silent' ? 'off' : d.logger.level);
  return [
    definePath({
      pattern: 'version-history',
      help: 'Lists every Coffer version that has opened this barrier (`keys`, oldest first, with `key_info`).',
      operations: {
        list: async () => {
          const versions = await versionHistory(d.barrier);
          const keyInfo: Record<string, unknown> = {};
          versions.forEach((v, i) => {
            keyInfo[v.version] = { build_date: v.buildDate, previous_version: versions[i - 1]?.version ?? null, timestamp_installed: v.timestampInstalled };
          });
          return { data: { keys: versions.map((v) => v.version), key_info: keyInfo } };
        },
      },
    }),
    definePath({
      pattern: 'ha-status',
      help: 'The nodes of the HA cluster; without HA a server is its own, and only, active node.',
      operations: {
        read: async () => ({
          data: {
            nodes: [{ hostname: hostname(), api_address: config ? apiAddress(config) : '', cluster_address: '', active_node: true, last_echo: null, version: VERSION }],
          },
        }),
      },
    }),
    definePath({
      pattern: 'host-info',
      help: 'CPU, CPU times, disk, host and memory of the machine the server runs on (what Node.js can tell).',
      operations: {
        read: async () => {
          const { data, warnings } = await collectHostInfo(config?.storage.type === 'sqlite' ? [dirname(resolve(config.storage.path))] : []);
          return { data, ...(warnings.length > 0 ? { warnings } : {}) };
        },
      },
    }),
    definePath({
      pattern: 'config/state/sanitized',
      help: 'The configuration the server was started with, without secrets (no storage credentials).',
      operations: {
        read: async () => {
          if (!config) throw notFound('this core was started without a server config');
          return { data: sanitizedConfig(config) };
        },
      },
    }),
    definePath({
      pattern: 'loggers',
      help: 'Reads, changes (`level`) or reverts to the configured level the verbosity of the server\'s logs.',
      fields: levelFields,
      fieldHelp: { level: LEVEL_HELP },
      operations: {
        read: async () => ({ data: { [LOGGER_NAME]: currentLevel() } }),
        update: async (ctx) => {
          d.logger.level = parseLevel(ctx.data.level);
          return { noContent: true };
        },
        delete: async () => {
          d.logger.level = startLevel;
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'loggers/:name',
      help: `The same for one logger by name; Coffer has one, "${LOGGER_NAME}".`,
      fields: levelFields,
      fieldHelp: { name: 'The logger\'s name.', level: LEVEL_HELP },
      operations: {
        // As Vault: an unknown name reads as an empty map, and is a 400 to change.
        read: async (ctx) => ({ data: ctx.params['name'] === LOGGER_NAME ? { [LOGGER_NAME]: currentLevel() } : {} }),
        update: async (ctx) => {
          const level = parseLevel(ctx.data.level);
          assertLogger(ctx.params['name']);
          d.logger.level = level;
          return { noContent: true };
        },
        delete: async (ctx) => {
          assertLogger(ctx.params['name']);
          d.logger.level = startLevel;
          return { noContent: true };
        },
      },
    }),
  ];
}

function assertLogger(name: string | undefined): void {
  if (name !== LOGGER_NAME) throw invalid(`logger ${JSON.stringify(name ?? '')} not found`);
}

/** Vault's checks and messages, in its order; nothing changes unless the level is valid. */
function parseLevel(raw: string | undefined): string {
  if (raw === undefined) throw invalid('level is required');
  const key = raw.trim().toLowerCase();
  if (key === '') throw invalid('level is empty');
  const level = levelNamed(key);
  if (!level) throw invalid(`invalid level provided: unknown log level: ${JSON.stringify(key.slice(0, 64))}`);
  return level;
}

/** api_addr, or the first listener's address (Vault's dev-mode default). */
function apiAddress(config: ServerConfig): string {
  if (config.apiAddr) return config.apiAddr;
  const first = config.listeners[0];
  return first ? `${first.tls ? 'https' : 'http'}://${listenAddress(first)}` : '';
}

const listenAddress = (l: ListenerConfig): string => `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;

/**
 * Vault's sanitized shape. Built from an allow-list, so a setting added to the config later is
 * not shown until someone decides it is safe: storage options are named one by one and the
 * PostgreSQL connection_url (which carries the password) never is. Listener TLS file paths are
 * shown, as Vault shows its listeners' options; they name files, not keys.
 */
export function sanitizedConfig(c: ServerConfig): Record<string, unknown> {
  const s = c.storage;
  const options = s.type === 'sqlite' ? { sqlite: { path: s.path, synchronous: s.synchronous } }
    : s.type === 'postgresql' ? { postgresql: { table: s.table, ha_enabled: s.haEnabled, max_parallel: s.maxParallel } }
      : {};
  return {
    api_addr: c.apiAddr ?? '',
    cache_size: c.cacheEntries ?? 0,
    cluster_addr: '',
    cluster_name: c.clusterName,
    default_lease_ttl: c.defaultLeaseTtlSeconds,
    disable_cache: c.cacheEntries === 0,
    enable_ui: c.ui,
    listeners: c.listeners.map((l) => ({
      type: l.type,
      config: l.tls
        ? { address: listenAddress(l), tls_cert_file: l.tls.certFile, tls_key_file: l.tls.keyFile, tls_min_version: l.tls.minVersion === 'TLSv1.3' ? 'tls13' : 'tls12' }
        : { address: listenAddress(l), tls_disable: true },
    })),
    log_format: 'json',
    log_level: c.logLevel,
    max_lease_ttl: c.maxLeaseTtlSeconds,
    ...(c.maxLeases === undefined ? {} : { max_leases: c.maxLeases }),
    raw_storage_endpoint: false,
    seals: [{ type: 'shamir', disabled: false }],
    storage: { type: s.type, redirect_addr: c.apiAddr ?? '', cluster_addr: '', ...options },
  };
}

// ---- host-info: gopsutil's field names, filled only with what Node.js (or /proc) can tell -----

type Fields = Record<string, unknown>;

/** Drops unknown values, so a field Coffer cannot measure is left out rather than made up. */
const known = (o: Fields): Fields => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !Number.isNaN(v)));
const num = (s: string | undefined): number | undefined => (s === undefined || s.trim() === '' ? undefined : Number(s));
const percent = (part: number, whole: number): number => (whole > 0 ? (part / whole) * 100 : 0);

/** As Vault: each part is collected on its own; one that fails becomes a warning, not an error. */
async function collectHostInfo(dataDirs: readonly string[]): Promise<{ data: Fields; warnings: string[] }> {
  const warnings: string[] = [];
  const data: Fields = { timestamp: new Date().toISOString() };
  const parts: [string, () => Promise<unknown>][] = [
    ['host', hostStat], ['memory', memoryStat], ['disk', () => diskUsage(['/', ...dataDirs], warnings)], ['cpu', cpuInfo], ['cpu_times', async () => cpuTimes()],
  ];
  for (const [name, collect] of parts) {
    try {
      data[name] = await collect();
    } catch (e) {
      warnings.push(`error collecting ${name} information: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { data, warnings };
}

const readText = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);

async function hostStat(): Promise<Fields> {
  const up = Math.floor(uptime());
  const osRelease = Object.fromEntries(((await readText('/etc/os-release')) ?? '').split('\n')
    .map((line) => /^([A-Z_]+)=("?)(.*)\2$/.exec(line.trim())).filter((m) => m !== null).map((m) => [m[1], m[3]]));
  const procs = await readdir('/proc').then((names) => names.filter((n) => /^\d+$/.test(n)).length, () => undefined);
  const goos = process.platform === 'win32' ? 'windows' : process.platform === 'sunos' ? 'solaris' : process.platform;
  return known({
    hostname: hostname(), uptime: up, bootTime: Math.floor(Date.now() / 1000) - up, procs, os: goos,
    platform: osRelease['ID'], platformVersion: osRelease['VERSION_ID'], kernelVersion: release(), kernelArch: machine(),
  });
}

/** Bytes; on Linux from /proc/meminfo with gopsutil's arithmetic, elsewhere total and available only. */
async function memoryStat(): Promise<Fields> {
  const total = totalmem();
  const meminfo = await readText('/proc/meminfo');
  const kb = (name: string): number | undefined => {
    const m = meminfo === undefined ? null : new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(meminfo);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const free = kb('MemFree');
  const buffers = kb('Buffers');
  const cached = kb('Cached') === undefined ? undefined : (kb('Cached') ?? 0) + (kb('SReclaimable') ?? 0);
  const available = kb('MemAvailable') ?? freemem();
  const used = free !== undefined && buffers !== undefined && cached !== undefined ? total - free - buffers - cached : total - available;
  return known({
    total, available, used, usedPercent: percent(used, total), free, buffers, cached,
    swapTotal: kb('SwapTotal'), swapFree: kb('SwapFree'),
  });
}

/** The filesystems holding `paths` (root and the data directory), each once, by mount point. */
async function diskUsage(paths: readonly string[], warnings: string[]): Promise<Fields[]> {
  const mounts = ((await readText('/proc/self/mounts')) ?? '').split('\n').map((line) => line.split(' '))
    .filter((f) => f.length >= 3).map((f) => ({ path: unescapeMount(f[1] ?? ''), fstype: f[2] }));
  const seen = new Set<string>();
  const out: Fields[] = [];
  for (const [i, target] of paths.entries()) {
    const mount = mounts.filter((m) => target === m.path || target.startsWith(m.path.endsWith('/') ? m.path : `${m.path}/`))
      .reduce<{ path: string; fstype: string | undefined } | undefined>((best, m) => (!best || m.path.length >= best.path.length ? m : best), undefined);
    const path = mount?.path ?? target;
    if (seen.has(path)) continue;
    seen.add(path);
    try {
      const s = await statfs(path);
      const used = (s.blocks - s.bfree) * s.bsize;
      const free = s.bavail * s.bsize;
      out.push(known({
        path, fstype: mount?.fstype, total: s.blocks * s.bsize, free, used, usedPercent: percent(used, used + free),
        inodesTotal: s.files, inodesUsed: s.files - s.ffree, inodesFree: s.ffree, inodesUsedPercent: percent(s.files - s.ffree, s.files),
      }));
    } catch (e) {
      warnings.push(`error collecting disk.${i} information: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
}

const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

/** One entry per logical CPU: /proc/cpuinfo on Linux, over what os.cpus() reports everywhere. */
async function cpuInfo(): Promise<Fields[]> {
  const base = cpus().map((c, i): Fields => ({ cpu: i, modelName: c.model.trim(), mhz: c.speed }));
  const blocks = ((await readText('/proc/cpuinfo')) ?? '').split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  if (blocks.length === 0) return base.map(known);
  return blocks.map((block, i) => {
    const f = new Map(block.split('\n').map((line) => line.split(':')).filter((p) => p.length >= 2).map((p) => [p[0]!.trim(), p.slice(1).join(':').trim()]));
    return known({
      ...base[i],
      cpu: num(f.get('processor')) ?? i, vendorId: f.get('vendor_id'), family: f.get('cpu family'), model: f.get('model'),
      stepping: num(f.get('stepping')), physicalId: f.get('physical id'), coreId: f.get('core id'), cores: num(f.get('cpu cores')),
      modelName: f.get('model name') ?? base[i]?.['modelName'], mhz: num(f.get('cpu MHz')) ?? base[i]?.['mhz'],
      cacheSize: num(f.get('cache size')?.replace(/\s*KB$/i, '')), flags: f.get('flags')?.split(/\s+/).filter((x) => x !== ''), microcode: f.get('microcode'),
    });
  });
}

/** Seconds per logical CPU, as gopsutil's per-CPU times; Node.js has no iowait, steal or guest. */
function cpuTimes(): Fields[] {
  return cpus().map((c, i) => ({
    cpu: `cpu${i}`, user: c.times.user / 1000, system: c.times.sys / 1000, idle: c.times.idle / 1000, nice: c.times.nice / 1000, irq: c.times.irq / 1000,
  }));
}
