import type { KeyStatus, LeaderResponse, RekeyStatus, SealStatus, Secret } from '../sdk/index.js';
import { formatRfc822, humanDuration, orNA } from './output.js';

// Rows for the tables the commands print, in Vault's order and wording.

export type Row = readonly [string, unknown];

/** `coffer status` / `operator unseal`: progress and nonce only while sealed, as Vault. */
export function sealStatusRows(status: SealStatus, leader: LeaderResponse | undefined): Row[] {
  const rows: Row[] = [
    ['Seal Type', status.type],
    ['Initialized', status.initialized],
    ['Sealed', status.sealed],
    ['Total Shares', status.n],
    ['Threshold', status.t],
  ];
  if (status.sealed) {
    rows.push(['Unseal Progress', `${status.progress}/${status.t}`], ['Unseal Nonce', orNA(status.nonce)]);
  }
  if (status.migration) rows.push(['Seal Migration in Progress', true]);
  rows.push(['Version', orNA(status.version)]);
  if (status.build_date !== undefined && status.build_date !== '') rows.push(['Build Date', status.build_date]);
  rows.push(['Storage Type', orNA(status.storage_type)]);
  if (status.cluster_name && status.cluster_id) rows.push(['Cluster Name', status.cluster_name], ['Cluster ID', status.cluster_id]);
  // sys/leader is unavailable while sealed: say so rather than guess.
  rows.push(['HA Enabled', leader === undefined ? 'n/a' : leader.ha_enabled]);
  if (leader?.ha_enabled) {
    rows.push(['HA Mode', leader.is_self ? 'active' : 'standby']);
    if (!leader.is_self) rows.push(['Active Node Address', orNA(leader.leader_address)]);
    if (leader.active_time !== undefined && leader.is_self) rows.push(['Active Since', leader.active_time]);
  }
  return rows;
}

/** `status --format json`: the seal status with the leader's fields merged in, as Vault. */
export function sealStatusJson(status: SealStatus, leader: LeaderResponse | undefined): Record<string, unknown> {
  return leader === undefined ? { ...status } : { ...status, ...leader };
}

export function keyStatusRows(status: KeyStatus): Row[] {
  const rows: Row[] = [
    ['Key Term', status.term],
    ['Install Time', formatRfc822(status.install_time)],
  ];
  if (status.encryptions !== undefined) rows.push(['Encryption Count', status.encryptions]);
  return rows;
}

export function rekeyStatusRows(status: RekeyStatus): Row[] {
  return [
    ['Nonce', orNA(status.nonce)],
    ['Started', status.started],
    ['Rekey Progress', `${status.progress}/${status.required}`],
    ['New Shares', status.n],
    ['New Threshold', status.t],
    ['Verification Required', status.verification_required],
  ];
}

/**
 * A response envelope as Vault's table formatter shows it: lease (or refresh interval), auth,
 * wrapping info, then the data keys in sorted order.
 */
export function secretRows(secret: Secret): Row[] {
  const rows: Row[] = [];
  if (secret.lease_duration > 0) {
    if (secret.lease_id !== '') {
      rows.push(['lease_id', secret.lease_id], ['lease_duration', humanDuration(secret.lease_duration)], ['lease_renewable', secret.renewable]);
    } else {
      rows.push(['refresh_interval', humanDuration(secret.lease_duration)]);
    }
  }
  const auth = secret.auth;
  if (auth !== null) {
    rows.push(
      ['token', auth.client_token],
      ['token_accessor', auth.accessor],
      ['token_duration', auth.lease_duration === 0 ? '∞' : humanDuration(auth.lease_duration)],
      ['token_renewable', auth.renewable],
      ['token_policies', auth.token_policies ?? []],
      ['identity_policies', auth.identity_policies ?? []],
      ['policies', auth.policies ?? []],
    );
    for (const [k, v] of Object.entries(auth.metadata ?? {})) rows.push([`token_meta_${k}`, v]);
  }
  const wrap = secret.wrap_info;
  if (wrap !== null) {
    rows.push(
      ['wrapping_token:', wrap.token],
      ['wrapping_accessor:', wrap.accessor],
      ['wrapping_token_ttl:', humanDuration(wrap.ttl)],
      ['wrapping_token_creation_time:', wrap.creation_time],
      ['wrapping_token_creation_path:', wrap.creation_path],
    );
    if (wrap.wrapped_accessor) rows.push(['wrapped_accessor:', wrap.wrapped_accessor]);
  }
  const data = secret.data ?? {};
  for (const key of Object.keys(data).sort()) rows.push([key, data[key]]);
  return rows;
}
