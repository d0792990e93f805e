import { invalid } from '../../util/errors.js';

/**
 * Standard 5-field cron (minute hour day-of-month month day-of-week), evaluated in UTC, as
 * Vault's `rotation_schedule`: `*`, `a`, `a-b`, `*\/n`, `a-b/n` and lists; month and weekday
 * names; 7 is Sunday too. When both day fields are restricted, either may match (as cron).
 */
export interface CronSchedule {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  readonly dayRestricted: boolean;
  readonly weekdayRestricted: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export function parseCron(expr: string): CronSchedule {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw invalid('rotation_schedule must have 5 fields: minute hour day-of-month month day-of-week');
  const [min, hour, dom, mon, dow] = parts as [string, string, string, string, string];
  const weekdays = field(dow, 0, 7, DAYS, 'day-of-week');
  if (weekdays.has(7)) { weekdays.delete(7); weekdays.add(0); }
  return {
    minutes: field(min, 0, 59, [], 'minute'),
    hours: field(hour, 0, 23, [], 'hour'),
    days: field(dom, 1, 31, [], 'day-of-month'),
    months: field(mon, 1, 12, MONTHS, 'month', 1),
    weekdays,
    dayRestricted: dom !== '*',
    weekdayRestricted: dow !== '*',
  };
}

function field(text: string, lo: number, hi: number, names: readonly string[], what: string, nameBase = 0): Set<number> {
  const value = (s: string): number => {
    const i = names.indexOf(s.toLowerCase());
    const n = i >= 0 ? i + nameBase : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isInteger(n) || n < lo || n > hi) throw invalid(`rotation_schedule: bad ${what} value "${s}"`);
    return n;
  };
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item);
    if (!m) throw invalid(`rotation_schedule: bad ${what} "${item}"`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw invalid(`rotation_schedule: bad step in ${what}`);
    let from = lo;
    let to = hi;
    if (m[1] !== '*') {
      const [a, b] = m[1]!.split('-') as [string, string | undefined];
      from = value(a);
      to = b === undefined ? (m[2] === undefined ? from : hi) : value(b);
      if (to < from) throw invalid(`rotation_schedule: bad range in ${what}`);
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** The first matching minute strictly after `after` (Unix ms), or undefined within 5 years. */
export function nextCronTime(s: CronSchedule, after: number): number | undefined {
  const d = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  const limit = after + 5 * 366 * 86_400_000;
  while (d.getTime() <= limit) {
    if (!s.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(s, d)) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!s.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!s.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return d.getTime();
  }
  return undefined;
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const dom = s.days.has(d.getUTCDate());
  const dow = s.weekdays.has(d.getUTCDay());
  if (s.dayRestricted && s.weekdayRestricted) return dom || dow;
  return dom && dow;
}
