import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Command } from 'commander';
import { Option } from 'commander';
import { peekDevice, verifyFiles } from '../../audit/verify-files.js';
import { checkAgainstServer, type VerifyIssue, type VerifyReport } from '../../audit/verify.js';
import { AuditApi } from '../../sdk/index.js';
import type { CheckpointVerification } from '../../sdk/index.js';
import { parseKvArgs } from '../args.js';
import { EXIT, UsageError, run } from '../context.js';
import type { CliContext } from '../context.js';
import { formatTable, formatValue, printJson, printLines } from '../output.js';

/** `coffer audit verify` exits 3 when the log fails verification (1 and 2 keep their usual meanings). */
export const EXIT_VERIFY_FAILED = 3;
const CLAIMS_PER_CALL = 1000;

const withSlash = (p: string): string => (p.endsWith('/') ? p : `${p}/`);

/** `coffer audit enable|list|disable|verify|tail`. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('Manage audit devices and check audit logs.');

  audit
    .command('enable')
    .description('Enable an audit device: coffer audit enable file file_path=/var/log/coffer/audit.log')
    .argument('<type>', 'device type: file, syslog, socket or http')
    .argument('[options...]', 'device options as key=value')
    .option('--path <path>', 'where to enable it (default: the type)')
    .option('--description <text>', 'a human-friendly description')
    .option('--local', 'accepted for Vault compatibility')
    .action(async (type: string, args: string[], opts: { path?: string; description?: string; local?: boolean }, cmd: Command) =>
      run(cmd, 'enabling audit device', async (ctx) => {
        const options: Record<string, string> = {};
        for (const [k, v] of Object.entries(await parseKvArgs(args))) {
          if (typeof v !== 'string') throw new UsageError(`option ${k} must be given once, as a string`);
          options[k] = v;
        }
        const path = withSlash(opts.path ?? type);
        await new AuditApi(ctx.client()).enable(path, {
          type, options, ...(opts.description === undefined ? {} : { description: opts.description }), ...(opts.local ? { local: true } : {}),
        });
        if (ctx.format === 'table') printLines(`Success! Enabled the ${type} audit device at: ${path}`);
      }),
    );

  audit
    .command('list')
    .description('List the enabled audit devices.')
    .option('--detailed', 'also show replication and options')
    .action(async (opts: { detailed?: boolean }, cmd: Command) =>
      run(cmd, 'listing audit devices', async (ctx) => {
        const devices = await new AuditApi(ctx.client()).list();
        if (ctx.format === 'json') return void printJson(devices);
        const paths = Object.keys(devices).sort();
        if (paths.length === 0) {
          printLines('No audit devices are enabled.');
          return 2;
        }
        const rows = paths.map((p) => {
          const d = devices[p]!;
          return opts.detailed ? [p, d.type, d.description, d.local ? 'local' : 'replicated', formatValue(d.options ?? {})] : [p, d.type, d.description];
        });
        printLines(formatTable(rows, opts.detailed ? ['Path', 'Type', 'Description', 'Replication', 'Options'] : ['Path', 'Type', 'Description']));
      }),
    );

  audit
    .command('disable')
    .description('Disable the audit device at a path.')
    .argument('<path>', 'the device path, e.g. file/')
    .action(async (path: string, _opts: unknown, cmd: Command) =>
      run(cmd, 'disabling audit device', async (ctx) => {
        await new AuditApi(ctx.client()).disable(withSlash(path));
        if (ctx.format === 'table') printLines(`Success! Disabled audit device (if it was enabled) at: ${withSlash(path)}`);
      }),
    );

  audit
    .command('verify')
    .description(`Check an audit log (one file or a rotated series) for edited, removed, re-ordered or cut lines. Exit 0 intact, ${EXIT_VERIFY_FAILED} not.`)
    .argument('<files...>', 'the log file(s); rotated .gz files are read too')
    .option('--server', 'also check the checkpoints\' MACs and the latest checkpoint with the server (needs a sudo token)')
    .option('--device <path>', 'the device path on the server (default: the one named in the checkpoints)')
    .option('--partial', 'the files are an excerpt: do not require the first line to be a checkpoint')
    .action(async (files: string[], opts: { server?: boolean; device?: string; partial?: boolean }, cmd: Command) =>
      run(cmd, 'verifying audit log', async (ctx) => verify(ctx, files, opts)),
    );

  audit
    .command('tail')
    .description('Pretty-print an audit log, optionally filtered by request path or identity.')
    .argument('<file>', 'the log file')
    .addOption(new Option('--filter-path <prefix>', 'only requests whose path starts with this'))
    .addOption(new Option('--identity <name>', 'only requests by this display name, entity id or (unhashed) accessor'))
    .option('--follow', 'keep printing new entries as they are written')
    .action(async (file: string, opts: { filterPath?: string; identity?: string; follow?: boolean }, cmd: Command) =>
      run(cmd, 'reading audit log', async (ctx) => tail(ctx, file, opts)),
    );
}

async function verify(ctx: CliContext, files: string[], opts: { server?: boolean; device?: string; partial?: boolean }): Promise<number> {
  let latest: CheckpointVerification['latest'] = null;
  let api: AuditApi | undefined;
  let device: string | undefined;
  if (opts.server === true) {
    device = opts.device ?? (await peekDevice(files));
    if (device === undefined || device === '') throw new UsageError('the log names no device: give --device');
    api = new AuditApi(ctx.client());
    // Asked before the files are read: a live log can only have grown past this checkpoint since.
    latest = (await api.verifyCheckpoints(device, [])).latest;
  }
  const report = await verifyFiles(files, { partial: opts.partial === true });
  let issue: VerifyIssue | undefined = report.issue;
  let verdict: CheckpointVerification | undefined;
  if (issue === undefined && api && device !== undefined) {
    verdict = { ...(await askServer(api, device, report)), latest };
    issue = checkAgainstServer(report, verdict);
  }
  if (ctx.format === 'json') {
    printJson({
      ok: issue === undefined, files: report.files, entries: report.entries, checkpoints: report.checkpoints.length,
      first_seq: report.firstSeq ?? null, last_seq: report.lastSeq ?? null, issue: issue ?? null,
      server: verdict ? { device, chain: verdict.chain, latest: verdict.latest } : null,
    });
  } else if (issue !== undefined) {
    printLines(`${issue.file}:${issue.line}: ${issue.kind}: ${issue.message}`);
  } else {
    printLines(`OK: ${report.files.length} file(s), ${report.entries} entries, ${report.checkpoints.length} checkpoints, seq ${report.firstSeq ?? '-'}-${report.lastSeq ?? '-'}`);
    if (verdict) printLines(`Checkpoints authenticated by the server (device ${device}); the log reaches its latest checkpoint (seq ${verdict.latest?.seq ?? '-'})`);
    else printLines('Not checked: checkpoint authenticity and a cut tail (use --server)');
  }
  return issue === undefined ? EXIT.ok : EXIT_VERIFY_FAILED;
}

/** Sends every checkpoint (in chunks) and merges the answers into one verdict. */
async function askServer(api: AuditApi, device: string, report: VerifyReport): Promise<CheckpointVerification> {
  const claims = report.checkpoints.map((c) => c.claim);
  if (claims.length === 0) return api.verifyCheckpoints(device, []);
  let merged: CheckpointVerification | undefined;
  for (let i = 0; i < claims.length; i += CLAIMS_PER_CALL) {
    const part = await api.verifyCheckpoints(device, claims.slice(i, i + CLAIMS_PER_CALL));
    merged = merged ? { ...part, results: [...merged.results, ...part.results] } : part;
  }
  return merged!;
}

async function tail(ctx: CliContext, file: string, opts: { filterPath?: string; identity?: string; follow?: boolean }): Promise<void> {
  const show = (text: string): void => {
    const start = text.indexOf('{');
    if (start < 0) return;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(text.slice(start)) as Record<string, unknown>;
    } catch {
      return;
    }
    const req = obj(e['request']);
    const auth = obj(e['auth']);
    const path = str(req['path']);
    if (opts.filterPath !== undefined && (e['type'] === 'checkpoint' || !path.startsWith(opts.filterPath))) return;
    if (opts.identity !== undefined && ![auth['display_name'], auth['entity_id'], auth['accessor']].includes(opts.identity)) return;
    if (ctx.format === 'json') return void printLines(JSON.stringify(e));
    if (e['type'] === 'checkpoint') return void printLines(`${str(e['time'])}  checkpoint  ${str(e['reason'])}  seq ${String(e['seq'])}`);
    const who = str(auth['display_name']) || '-';
    const err = str(e['error']);
    printLines([str(e['time']), str(e['type']).padEnd(8), str(req['operation']).padEnd(6), path, who, str(req['remote_address']), err ? `error: ${err}` : ''].join('  ').trimEnd());
  };
  // `coffer audit tail log | head`: a closed pipe ends the command instead of crashing it.
  let piped = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') piped = false; });
  // Read from where the last read stopped; a file that shrank was rotated: start over.
  let pos = 0;
  let rest = '';
  let decoder = new StringDecoder('utf8');
  for (;;) {
    const fh = await open(file, 'r');
    try {
      const size = (await fh.stat()).size;
      if (size < pos) [pos, rest, decoder] = [0, '', new StringDecoder('utf8')];
      while (pos < size) {
        const buf = Buffer.alloc(Math.min(1 << 20, size - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const parts = (rest + decoder.write(buf.subarray(0, bytesRead))).split('\n');
        rest = parts.pop() ?? '';
        for (const text of parts) if (piped) show(text);
      }
    } finally {
      await fh.close();
    }
    if (opts.follow !== true || !piped) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
