/**
 * Coffer's attribute conditions on a path stanza (ABAC): the stanza grants (or denies) only while
 * every condition holds for the request at hand.
 *
 *   conditions {
 *     source_cidrs    = ["10.0.0.0/8", "2001:db8::/32"]
 *     entity_metadata = { team = ["ml", "data"], env = [] }
 *     time_window     = { days = ["mon-fri"], hours = "08:00-18:00", timezone = "Europe/Paris" }
 *   }
 *
 * Parsed (and refused with a message naming the problem) when the policy is written; compiled
 * once per ACL, so a request only tests an address against a BlockList, compares a few strings
 * and formats one date.
 */
import { BlockList, isIP } from 'node:net';
import { isPlainObject } from '../../config/schema.js';
import { parseCidr } from '../tokens/cidr.js';
import type { ConditionName, ConditionOutcome, RequestContext } from './types.js';

export interface TimeWindow {
  /** Local weekdays the window may start on (0 = Sunday); undefined = every day. */
  readonly days: readonly number[] | undefined;
  /** Minutes after local midnight: start inclusive, end exclusive. start > end wraps midnight. */
  readonly start: number;
  readonly end: number;
  /** IANA name, e.g. "UTC" or "America/New_York". */
  readonly timezone: string;
  /** As written, for explanations. */
  readonly text: string;
}

export interface ParsedConditions {
  /** Canonical `addr/prefix` texts. */
  readonly sourceCidrs: readonly string[] | undefined;
  /** key → allowed values; an empty list means "present, any value". */
  readonly entityMetadata: ReadonlyMap<string, readonly string[]> | undefined;
  readonly timeWindow: TimeWindow | undefined;
}

const KEYS = new Set(['source_cidrs', 'entity_metadata', 'time_window']);
const WINDOW_KEYS = new Set(['days', 'hours', 'timezone']);
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

type Bad = (problem: string) => never;

/** Reads a `conditions` block; undefined when absent. `bad` throws with the stanza named. */
export function parseConditions(raw: unknown, bad: Bad): ParsedConditions | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw)) return bad('conditions may be given only once per path stanza');
  if (!isPlainObject(raw)) return bad('conditions must be a block such as conditions { source_cidrs = ["10.0.0.0/8"] }');
  for (const key of Object.keys(raw)) if (!KEYS.has(key)) bad(`invalid condition "${key}" (use source_cidrs, entity_metadata or time_window)`);
  const out: ParsedConditions = {
    sourceCidrs: raw['source_cidrs'] === undefined ? undefined : parseCidrs(raw['source_cidrs'], bad),
    entityMetadata: raw['entity_metadata'] === undefined ? undefined : parseMetadata(raw['entity_metadata'], bad),
    timeWindow: raw['time_window'] === undefined ? undefined : parseWindow(raw['time_window'], bad),
  };
  return out.sourceCidrs || out.entityMetadata || out.timeWindow ? out : undefined;
}

function stringList(value: unknown, what: string, bad: Bad): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return value;
  return bad(`${what} must be a list of strings`);
}

function parseCidrs(value: unknown, bad: Bad): string[] {
  const list = stringList(value, 'source_cidrs', bad);
  if (list.length === 0) bad('source_cidrs must list at least one CIDR');
  return list.map((text) => parseCidr(text) ?? bad(`source_cidrs: ${JSON.stringify(text)} is not an IPv4 or IPv6 CIDR`));
}

function parseMetadata(value: unknown, bad: Bad): Map<string, string[]> {
  const blocks = Array.isArray(value) && value.every(isPlainObject) ? value : [value];
  const out = new Map<string, string[]>();
  for (const block of blocks) {
    if (!isPlainObject(block)) return bad('entity_metadata must be a map of metadata keys to lists of values');
    for (const [key, values] of Object.entries(block)) {
      if (key === '') bad('entity_metadata keys must not be empty');
      const list = values === null ? [] : stringList(values, `entity_metadata.${key}`, bad);
      const before = out.get(key);
      out.set(key, before === undefined ? list : before.length === 0 || list.length === 0 ? [] : [...before, ...list]);
    }
  }
  if (out.size === 0) bad('entity_metadata must name at least one key');
  return out;
}

function parseWindow(value: unknown, bad: Bad): TimeWindow {
  const block = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (!isPlainObject(block)) return bad('time_window must be a block such as time_window { hours = "08:00-18:00" }');
  for (const key of Object.keys(block)) if (!WINDOW_KEYS.has(key)) bad(`time_window: invalid key "${key}" (use days, hours, timezone)`);
  const timezone = block['timezone'] === undefined ? 'UTC' : block['timezone'];
  if (typeof timezone !== 'string' || !validTimezone(timezone)) return bad(`time_window: unknown timezone ${JSON.stringify(timezone)}`);
  const days = block['days'] === undefined ? undefined : parseDays(stringList(block['days'], 'time_window.days', bad), bad);
  let start = 0;
  let end = 24 * 60;
  const hours = block['hours'];
  if (hours !== undefined) {
    if (typeof hours !== 'string') return bad('time_window.hours must be a string such as "08:00-18:00"');
    const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(hours);
    if (!m) return bad(`time_window.hours ${JSON.stringify(hours)} must look like "08:00-18:00"`);
    start = Number(m[1]) * 60 + Number(m[2]);
    end = Number(m[3]) * 60 + Number(m[4]);
    if (Number(m[2]) > 59 || Number(m[4]) > 59 || start >= 24 * 60 || end > 24 * 60) bad(`time_window.hours ${JSON.stringify(hours)} is not a valid time range`);
    if (start === end) bad('time_window.hours must not start and end at the same time');
  }
  const text = [days ? `days ${days.map((d) => DAY_NAMES[d]!.slice(0, 3)).join(',')}` : 'every day', `${fmt(start)}-${fmt(end)}`, timezone].join(' ');
  return { days, start, end, timezone, text };
}

function parseDays(list: readonly string[], bad: Bad): number[] {
  if (list.length === 0) bad('time_window.days must name at least one day');
  const out = new Set<number>();
  const day = (name: string): number => {
    const n = name.trim().toLowerCase();
    const i = DAY_NAMES.findIndex((d) => d === n || d.slice(0, 3) === n);
    return i >= 0 ? i : bad(`time_window.days: unknown day ${JSON.stringify(name)} (use mon, tue, ... or mon-fri)`);
  };
  for (const item of list) {
    const range = item.split('-');
    if (range.length === 2) {
      // "fri-mon" wraps over the weekend.
      const from = day(range[0]!);
      const to = day(range[1]!);
      for (let d = from; ; d = (d + 1) % 7) { out.add(d); if (d === to) break; }
    } else if (range.length === 1) out.add(day(item));
    else bad(`time_window.days: ${JSON.stringify(item)} is not a day or a range of days`);
  }
  return [...out].sort();
}

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz !== '';
  } catch {
    return false;
  }
}

const fmt = (minutes: number): string => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** A stanza's conditions, ready to test requests against. */
export interface CompiledConditions {
  /** All hold for this request; false without a context. */
  holds(context: RequestContext | undefined): boolean;
  /** Each condition and whether it holds, with a reason (for explanations). */
  evaluate(context: RequestContext | undefined): ConditionOutcome[];
}

type Test = (context: RequestContext) => ConditionOutcome;

export function compileConditions(c: ParsedConditions): CompiledConditions {
  const tests: [ConditionName, Test][] = [];
  if (c.sourceCidrs) tests.push(['source_cidrs', cidrTest(c.sourceCidrs)]);
  if (c.entityMetadata) tests.push(['entity_metadata', metadataTest(c.entityMetadata)]);
  if (c.timeWindow) tests.push(['time_window', windowTest(c.timeWindow)]);
  return {
    holds: (context) => context !== undefined && tests.every(([, t]) => t(context).holds),
    evaluate: (context) => tests.map(([condition, t]) => (context ? t(context) : { condition, holds: false, detail: 'no request context to evaluate it against' })),
  };
}

function cidrTest(cidrs: readonly string[]): Test {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net = '', prefix = '0'] = cidr.split('/');
    list.addSubnet(net, Number(prefix), isIP(net) === 4 ? 'ipv4' : 'ipv6');
  }
  const wanted = cidrs.join(', ');
  return ({ clientIp }) => {
    // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d; it is the IPv4 address.
    const addr = clientIp.startsWith('::ffff:') && isIP(clientIp.slice(7)) === 4 ? clientIp.slice(7) : clientIp;
    const family = isIP(addr);
    const holds = family !== 0 && list.check(addr, family === 4 ? 'ipv4' : 'ipv6');
    return { condition: 'source_cidrs', holds, detail: `client address ${addr || '(unknown)'} ${holds ? 'is' : 'is not'} in ${wanted}` };
  };
}

function metadataTest(wanted: ReadonlyMap<string, readonly string[]>): Test {
  return ({ identity }) => {
    if (!identity) return { condition: 'entity_metadata', holds: false, detail: 'the token has no entity' };
    for (const [key, values] of wanted) {
      const have = Object.hasOwn(identity.metadata, key) ? identity.metadata[key] : undefined;
      if (have === undefined) return { condition: 'entity_metadata', holds: false, detail: `entity has no metadata "${key}"` };
      if (values.length > 0 && !values.includes(have)) {
        return { condition: 'entity_metadata', holds: false, detail: `entity metadata "${key}" is not one of ${values.map((v) => JSON.stringify(v)).join(', ')}` };
      }
    }
    return { condition: 'entity_metadata', holds: true, detail: `entity metadata matches ${[...wanted.keys()].map((k) => `"${k}"`).join(', ')}` };
  };
}

function windowTest(w: TimeWindow): Test {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: w.timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return ({ now }) => {
    const { day, minutes } = localTime(format, now);
    let startDay: number | undefined;
    if (w.start < w.end) startDay = minutes >= w.start && minutes < w.end ? day : undefined;
    // Wrapping midnight: after midnight, the window belongs to the day it started on.
    else if (minutes >= w.start) startDay = day;
    else if (minutes < w.end) startDay = (day + 6) % 7;
    const holds = startDay !== undefined && (w.days === undefined || w.days.includes(startDay));
    const local = `${DAY_NAMES[day]!.slice(0, 3)} ${fmt(minutes)} ${w.timezone}`;
    return { condition: 'time_window', holds, detail: `local time ${local} is ${holds ? 'inside' : 'outside'} ${w.text}` };
  };
}

const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function localTime(format: Intl.DateTimeFormat, now: number): { day: number; minutes: number } {
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(now)) {
    if (part.type === 'weekday') day = WEEKDAYS[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minutes: hour * 60 + minute };
}
