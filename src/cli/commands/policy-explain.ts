import { Option, type Command } from 'commander';
import { UsageError, run } from '../context.js';
import { formatTable, formatValue, printJson, printLines } from '../output.js';

const OPERATIONS = ['read', 'create', 'update', 'patch', 'delete', 'list'];

interface ExplainOptions {
  token?: string;
  accessor?: string;
  operation?: string;
  clientIp?: string;
}

/** A stanza as sys/internal/acl-explain reports it (only the fields printed). */
interface StanzaOut {
  policy?: unknown;
  path?: unknown;
  rendered?: unknown;
  capabilities?: unknown;
  rule?: unknown;
  conditions?: unknown;
}

/**
 * `coffer policy explain PATH`: which policy stanza and which condition decide an operation on a
 * path, for the current token or (with sudo) another one. Backed by sys/internal/acl-explain.
 * Added to the `policy` command group when it exists, so it sits beside `policy write|read|...`.
 */
export function registerPolicyExplain(program: Command): void {
  const policy = program.commands.find((c) => c.name() === 'policy') ?? program.command('policy').description('Manage ACL policies.');
  policy
    .command('explain')
    .description('Explain which policy stanza and which condition decide an operation on a path (now, from this address).')
    .argument('<path>', 'request path, e.g. secret/data/app')
    .addOption(new Option('--operation <op>', `operation: ${OPERATIONS.join(', ')}`).default('read'))
    .addOption(new Option('--token <token>', 'explain for this token instead of the current one (needs sudo)'))
    .addOption(new Option('--accessor <accessor>', 'explain for the token with this accessor (needs sudo)'))
    .addOption(new Option('--client-ip <ip>', 'evaluate source_cidrs conditions for this address (needs sudo)'))
    .action(async (path: string, opts: ExplainOptions, cmd: Command) =>
      run(cmd, `explaining ${path}`, async (ctx) => {
        const operation = (opts.operation ?? 'read').toLowerCase();
        if (!OPERATIONS.includes(operation)) throw new UsageError(`Invalid operation ${JSON.stringify(opts.operation)} (expected ${OPERATIONS.join(', ')})`);
        const body: Record<string, unknown> = { path, operation };
        if (opts.token) body['token'] = opts.token;
        if (opts.accessor) body['accessor'] = opts.accessor;
        if (opts.clientIp) body['client_ip'] = opts.clientIp;
        const secret = await ctx.client().write('sys/internal/acl-explain', body);
        const data = secret?.data ?? {};
        if (ctx.format === 'json') {
          printJson(data);
          return;
        }
        printLines(render(data));
      }),
    );
}

function render(d: Record<string, unknown>): string {
  const rule = typeof d['rule'] === 'string' ? `${d['rule']} (${String(d['match'])})` : 'none';
  const rows: [string, string][] = [
    ['Path', formatValue(d['path'])],
    ['Operation', formatValue(d['operation'])],
    ['Allowed', formatValue(d['allowed'])],
    ['Capabilities', formatValue(d['capabilities'])],
    ['Rule', rule],
    ['Reason', formatValue(d['reason'])],
    ['Policies', formatValue(d['policies'])],
    ['Identity Policies', formatValue(d['identity_policies'])],
    ['Client IP', formatValue(d['client_ip'])],
    ['Time', formatValue(d['time'])],
  ];
  const out = [formatTable(rows, ['Key', 'Value'])];
  const decided = list(d['decided_by']);
  if (decided.length > 0) out.push('', 'Decided by:', ...decided.flatMap((s) => stanzaLines(s, false)));
  const skipped = list(d['skipped']);
  if (skipped.length > 0) out.push('', 'Skipped (their conditions do not hold now):', ...skipped.flatMap((s) => stanzaLines(s, true)));
  return out.join('\n');
}

function list(v: unknown): StanzaOut[] {
  return Array.isArray(v) ? v.filter((x): x is StanzaOut => typeof x === 'object' && x !== null) : [];
}

function stanzaLines(s: StanzaOut, showRule: boolean): string[] {
  const rendered = typeof s.rendered === 'string' ? ` -> "${s.rendered}"` : '';
  const where = showRule && typeof s.rule === 'string' ? ` (rule ${s.rule})` : '';
  const lines = [`  policy "${formatValue(s.policy)}", path "${formatValue(s.path)}"${rendered}${where}: ${formatValue(s.capabilities)}`];
  for (const c of Array.isArray(s.conditions) ? s.conditions : []) {
    if (typeof c !== 'object' || c === null) continue;
    const o = c as Record<string, unknown>;
    lines.push(`    ${formatValue(o['condition'])}: ${o['holds'] === true ? 'holds' : 'fails'} (${formatValue(o['detail'])})`);
  }
  return lines;
}
