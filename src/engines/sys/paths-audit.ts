import * as z from 'zod';
import type { AuditBroker } from '../../audit/broker.js';
import { stringOptions } from '../../audit/options.js';
import { bool } from '../../core/fields.js';
import { definePath, type PathSpec } from '../../core/framework.js';
import { invalid } from '../../util/errors.js';

const MAX_CHECKPOINTS_PER_CALL = 10_000;

const enableFields = z.object({
  type: z.string().optional(),
  description: z.string().optional(),
  options: z.unknown().optional(),
  local: bool().optional(),
});

const hashFields = z.object({ input: z.string().optional() });

const verifyFields = z.object({
  checkpoints: z.array(z.object({
    chain: z.string(),
    seq: z.number().int().positive(),
    prev_hash: z.string(),
    time: z.string(),
    reason: z.string(),
    mac: z.string(),
  })).max(MAX_CHECKPOINTS_PER_CALL),
});

function devicePath(param: string | undefined): string {
  if (param === undefined || param === '' || param === '/') throw invalid('missing audit device path');
  return param;
}

/**
 * sys/audit (list), sys/audit/:path (enable, disable), sys/audit-hash/:path, and Coffer's
 * sys/audit-verify/:path (checkpoint MACs checked with a key that never leaves the server).
 */
export function auditPaths(audit: Pick<AuditBroker, 'list' | 'enable' | 'disable' | 'hash' | 'verifyCheckpoints'>): PathSpec[] {
  return [
    definePath({
      pattern: 'audit',
      help: 'Lists the enabled audit devices.',
      sudo: true,
      operations: {
        read: async () => {
          const data: Record<string, unknown> = {};
          for (const d of audit.list()) data[d.path] = d;
          return { data };
        },
      },
    }),
    definePath({
      pattern: 'audit/:path*',
      help: 'Enables (PUT) or disables (DELETE) an audit device at a path.',
      sudo: true,
      fields: enableFields,
      fieldHelp: {
        type: 'The device type: file, syslog, socket or http.',
        description: 'A human-friendly description.',
        options: 'Device options, e.g. {"file_path": "/var/log/coffer/audit.log"}; see docs/audit.md.',
        local: 'Accepted for Vault compatibility (Coffer has no replication yet).',
      },
      operations: {
        update: async (ctx) => {
          const type = ctx.data.type;
          if (type === undefined || type === '') throw invalid('missing audit device type');
          await audit.enable({
            path: devicePath(ctx.params['path']),
            type,
            ...(ctx.data.description === undefined ? {} : { description: ctx.data.description }),
            options: stringOptions(ctx.data.options),
            ...(ctx.data.local === undefined ? {} : { local: ctx.data.local }),
          });
          return { noContent: true };
        },
        delete: async (ctx) => {
          await audit.disable(devicePath(ctx.params['path']));
          return { noContent: true };
        },
      },
    }),
    definePath({
      pattern: 'audit-hash/:path*',
      help: 'Hashes a value with an audit device\'s salt, to find it in that device\'s entries.',
      fields: hashFields,
      fieldHelp: { input: 'The value to hash.' },
      operations: {
        update: async (ctx) => {
          const input = ctx.data.input;
          if (input === undefined || input === '') throw invalid('the "input" parameter is empty');
          return { data: { hash: audit.hash(devicePath(ctx.params['path']), input) } };
        },
      },
    }),
    definePath({
      pattern: 'audit-verify/:path*',
      help: 'Checks audit checkpoints against the device\'s checkpoint key and returns its latest checkpoint (used by `coffer audit verify --server`).',
      sudo: true,
      fields: verifyFields,
      fieldHelp: { checkpoints: 'Checkpoints from a log: [{chain, seq, prev_hash, time, reason, mac}].' },
      operations: {
        update: async (ctx) => {
          const v = audit.verifyCheckpoints(devicePath(ctx.params['path']), ctx.data.checkpoints);
          return { data: { chain: v.chain, results: v.results, latest: v.latest } };
        },
      },
    }),
  ];
}
