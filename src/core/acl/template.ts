/**
 * Templated policy paths (Vault's ACL templating): `{{identity.entity.id}}` and friends are
 * filled in from the caller's identity at request time.
 *
 *   {{identity.entity.id}}  {{identity.entity.name}}  {{identity.entity.metadata.<key>}}
 *   {{identity.entity.aliases.<mount accessor>.id|name|metadata.<key>}}
 *   {{identity.groups.ids.<group id>.id|name|metadata.<key>}}
 *   {{identity.groups.names.<group name>.id|name|metadata.<key>}}
 *
 * A filled-in value must be a plain path segment. One holding `*`, `+`, `/` or anything else
 * that could change what the path matches makes the stanza not apply at all, so an identity
 * attribute can never widen a policy (Vault emits such values verbatim).
 */

import type { IdentityView } from './types.js';

export type Directive =
  | { readonly kind: 'entity'; readonly field: 'id' | 'name' }
  | { readonly kind: 'entity-metadata'; readonly key: string }
  | { readonly kind: 'alias'; readonly accessor: string; readonly field: 'id' | 'name' }
  | { readonly kind: 'alias-metadata'; readonly accessor: string; readonly key: string }
  | { readonly kind: 'group'; readonly by: 'ids' | 'names'; readonly ref: string; readonly field: 'id' | 'name' }
  | { readonly kind: 'group-metadata'; readonly by: 'ids' | 'names'; readonly ref: string; readonly key: string };

/** Literal text and directives, in order. */
export type Template = readonly (string | Directive)[];

/** Whether the text holds template braces at all (`{{` or `}}`). */
export const hasTemplate = (text: string): boolean => text.includes('{{') || text.includes('}}');

/**
 * Parses a templated path. Returns a problem (for the policy parse error) instead of throwing,
 * so the caller names the stanza.
 */
export function parseTemplate(text: string): { template: Template } | { problem: string } {
  const parts: (string | Directive)[] = [];
  let rest = text;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    const close = rest.indexOf('}}');
    if (open < 0) {
      if (close >= 0) return { problem: 'unbalanced templating characters' };
      parts.push(rest);
      break;
    }
    if (close >= 0 && close < open) return { problem: 'unbalanced templating characters' };
    if (open > 0) parts.push(rest.slice(0, open));
    const end = rest.indexOf('}}', open + 2);
    if (end < 0) return { problem: 'unbalanced templating characters' };
    const inner = rest.slice(open + 2, end);
    if (inner.includes('{{')) return { problem: 'unbalanced templating characters' };
    const directive = parseDirective(inner.trim());
    if (!directive) return { problem: `unknown template directive {{${inner.trim()}}}` };
    parts.push(directive);
    rest = rest.slice(end + 2);
  }
  return { template: parts };
}

function parseDirective(d: string): Directive | undefined {
  if (d === 'identity.entity.id') return { kind: 'entity', field: 'id' };
  if (d === 'identity.entity.name') return { kind: 'entity', field: 'name' };
  const meta = after(d, 'identity.entity.metadata.');
  if (meta !== undefined) return meta === '' ? undefined : { kind: 'entity-metadata', key: meta };
  const alias = after(d, 'identity.entity.aliases.');
  if (alias !== undefined) {
    const [accessor, selector] = splitOnce(alias);
    if (!accessor || selector === undefined) return undefined;
    if (selector === 'id' || selector === 'name') return { kind: 'alias', accessor, field: selector };
    const key = after(selector, 'metadata.');
    return key ? { kind: 'alias-metadata', accessor, key } : undefined;
  }
  const groups = after(d, 'identity.groups.');
  if (groups !== undefined) {
    const [by, rest] = splitOnce(groups);
    if ((by !== 'ids' && by !== 'names') || rest === undefined) return undefined;
    const [ref, selector] = splitOnce(rest);
    if (!ref || selector === undefined) return undefined;
    if (selector === 'id' || selector === 'name') return { kind: 'group', by, ref, field: selector };
    const key = after(selector, 'metadata.');
    return key ? { kind: 'group-metadata', by, ref, key } : undefined;
  }
  return undefined;
}

const after = (text: string, prefix: string): string | undefined => (text.startsWith(prefix) ? text.slice(prefix.length) : undefined);

function splitOnce(text: string): [string, string | undefined] {
  const dot = text.indexOf('.');
  return dot < 0 ? [text, undefined] : [text.slice(0, dot), text.slice(dot + 1)];
}

/**
 * A value that can only ever name itself inside a path: no separator, no wildcard, no template
 * braces, no escape or control characters, not a relative segment.
 */
// eslint-disable-next-line no-control-regex
const PLAIN_SEGMENT = /^[^/*+{}\\%\u0000-\u001f\u007f]{1,512}$/;
export const isPlainSegment = (value: string): boolean => PLAIN_SEGMENT.test(value) && value !== '.' && value !== '..';

/** The filled-in path, or undefined when a value is missing or is not a plain segment. */
export function renderTemplate(template: Template, identity: IdentityView): string | undefined {
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const value = valueOf(part, identity);
    if (value === undefined || !isPlainSegment(value)) return undefined;
    out += value;
  }
  return out;
}

function valueOf(d: Directive, identity: IdentityView): string | undefined {
  const pick = (map: Readonly<Record<string, string>>, key: string): string | undefined => (Object.hasOwn(map, key) ? map[key] : undefined);
  switch (d.kind) {
    case 'entity': return d.field === 'id' ? identity.entityId : identity.entityName;
    case 'entity-metadata': return pick(identity.metadata, d.key);
    case 'alias':
    case 'alias-metadata': {
      const alias = identity.aliases.find((a) => a.mountAccessor === d.accessor);
      if (!alias) return undefined;
      return d.kind === 'alias' ? alias[d.field] : pick(alias.metadata, d.key);
    }
    case 'group':
    case 'group-metadata': {
      const group = identity.groups.find((g) => (d.by === 'ids' ? g.id : g.name) === d.ref);
      if (!group) return undefined;
      return d.kind === 'group' ? group[d.field] : pick(group.metadata, d.key);
    }
  }
}
