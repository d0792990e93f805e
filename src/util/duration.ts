const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Vault's duration rules: a bare integer (or numeric string) is seconds; otherwise a Go
 * duration such as "1h30m" or "90s" (plus "d" for days, which Vault accepts). Fractions of a
 * second round down. Returns undefined for anything else.
 */
export function parseDurationSeconds(input: unknown): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.floor(input) : undefined;
  if (typeof input !== 'string') return undefined;
  const s = input.trim();
  if (s === '') return 0;
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2]!] ?? 0);
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || consumed === 0) return undefined;
  return Math.floor(total + 1e-9);
}
