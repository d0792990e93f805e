import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { EXIT, UsageError, run } from '../context.js';
import { printJson, printNotice } from '../output.js';
import { readAllStdin } from '../prompt.js';
import { HclFormatError, formatPolicy } from './hcl-format.js';
import { printLine } from './secret-output.js';

async function readLocal(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`Error reading ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** `coffer policy write|read|list|delete|fmt`, as `vault policy`. */
export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('Manage ACL policies.');

  policy
    .command('write')
    .description('Create or replace a policy from a file, or from stdin with -.')
    .argument('<name>', 'policy name (lower-cased)')
    .argument('<file>', 'HCL or JSON policy file, or - for stdin')
    .action(async (name: string, file: string, _opts: unknown, cmd: Command) =>
      run(cmd, 'uploading policy', async (ctx) => {
        const formatted = name.trim().toLowerCase();
        const text = file.trim() === '-' ? await readAllStdin() : await readLocal(file.trim(), 'policy file');
        await ctx.client().policy.write(formatted, text);
        if (formatted !== name) printNotice(`Policy name was converted from "${name}" to "${formatted}"`);
        printLine(`Success! Uploaded policy: ${formatted}`);
      }),
    );

  policy
    .command('read')
    .description('Print a policy\'s text.')
    .argument('<name>', 'policy name')
    .action(async (name: string, _opts: unknown, cmd: Command) =>
      run(cmd, `reading policy named ${name}`, async (ctx) => {
        const formatted = name.trim().toLowerCase();
        const text = await ctx.client().policy.read(formatted);
        if (text === null || text === '') {
          printNotice(`No policy named: ${formatted}`);
          return EXIT.remote;
        }
        if (ctx.format === 'json') printJson({ policy: text });
        else printLine(text.trim());
      }),
    );

  policy
    .command('list')
    .description('List the policy names.')
    .action(async (_opts: unknown, cmd: Command) =>
      run(cmd, 'listing policies', async (ctx) => {
        const names = await ctx.client().policy.list();
        if (ctx.format === 'json') printJson(names);
        else for (const n of names) printLine(n);
      }),
    );

  policy
    .command('delete')
    .description('Delete a policy (no error when there is none; default and root cannot be deleted).')
    .argument('<name>', 'policy name')
    .action(async (name: string, _opts: unknown, cmd: Command) =>
      run(cmd, `deleting ${name.trim().toLowerCase()}`, async (ctx) => {
        const formatted = name.trim().toLowerCase();
        await ctx.client().policy.delete(formatted);
        printLine(`Success! Deleted policy: ${formatted}`);
      }),
    );

  policy
    .command('fmt')
    .description('Rewrite a local policy file in the canonical layout (checks its syntax; the server checks its rules).')
    .argument('<file>', 'the policy file to format in place')
    .action(async (file: string, _opts: unknown, cmd: Command) =>
      run(cmd, 'formatting policy', async () => {
        const path = file.trim();
        const text = await readLocal(path, 'source file');
        let formatted: string;
        try {
          formatted = formatPolicy(text);
        } catch (e) {
          if (e instanceof HclFormatError) throw new UsageError(`Error parsing policy ${path}: ${e.message}`);
          throw e;
        }
        try {
          if (formatted !== text) await writeFile(path, formatted, 'utf8');
        } catch (e) {
          throw new UsageError(`Error writing result to ${path}: ${e instanceof Error ? e.message : String(e)}`);
        }
        printLine(`Success! Formatted policy: ${path}`);
      }),
    );
}
