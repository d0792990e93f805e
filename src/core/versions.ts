import * as z from 'zod';
import type { Storage } from '../storage/types.js';
import { getJson, putJson } from '../storage/view.js';
import { BUILD_DATE, VERSION } from '../version.js';

/** Inside the barrier, one record per version, as Vault keeps them (`core/versions/<version>`). */
const PREFIX = 'core/versions/';

export interface VersionEntry {
  readonly version: string;
  /** RFC 3339 UTC, whole seconds: when a server of this version first opened the barrier. */
  readonly timestampInstalled: string;
  /** null for a record that did not store one (Vault's entries from before 1.11 have none). */
  readonly buildDate: string | null;
}

const stored = z.object({
  version: z.string(),
  timestamp_installed: z.string(),
  build_date: z.string().nullable().optional(),
});

/**
 * Records `version` the first time a server running it opens the barrier (init or unseal); a
 * later unseal of the same version keeps the first timestamp, so the history survives restarts.
 */
export async function recordVersion(barrier: Storage, version = VERSION, now = new Date()): Promise<void> {
  if ((await getJson(barrier, PREFIX + version)) !== undefined) return;
  const timestamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  await putJson(barrier, PREFIX + version, { version, timestamp_installed: timestamp, build_date: BUILD_DATE });
}

/** Every recorded version, oldest install first (ties by version, so the order is stable). */
export async function versionHistory(barrier: Storage): Promise<VersionEntry[]> {
  const entries: VersionEntry[] = [];
  for (const key of await barrier.list(PREFIX)) {
    if (key.endsWith('/')) continue;
    const parsed = stored.safeParse(await getJson(barrier, PREFIX + key));
    // A record that does not parse is skipped rather than failing the whole listing.
    if (!parsed.success || Number.isNaN(Date.parse(parsed.data.timestamp_installed))) continue;
    entries.push({ version: parsed.data.version, timestampInstalled: parsed.data.timestamp_installed, buildDate: parsed.data.build_date ?? null });
  }
  return entries.sort((a, b) => Date.parse(a.timestampInstalled) - Date.parse(b.timestampInstalled) || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}
