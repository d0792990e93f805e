/** Reading HCL 1 and JSON documents, the syntax of Vault's configs and policies. */
import { parseHcl } from './hcl-reader.js';
import { parseJson } from './json-reader.js';
import { SourceLines, type LineLookup } from './tree.js';

export { ConfigError } from './config-error.js';
export { isPlainObject, type LineLookup, type PlainObject } from './tree.js';

/**
 * The plain tree of an HCL 1 or JSON document (a repeated block becomes a list) and the lines of
 * its keys. Also read by the ACL policy parser (src/core/acl/parse.ts). Errors are ConfigErrors.
 */
export function readDocument(text: string, format: 'hcl' | 'json', sourceName: string): { tree: unknown; lines: LineLookup } {
  const body = text.replace(/^\uFEFF/, '');
  const node = format === 'hcl' ? parseHcl(body, sourceName) : parseJson(body, sourceName);
  const lines = new SourceLines();
  return { tree: lines.toPlain(node, sourceName), lines };
}
