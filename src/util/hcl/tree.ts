/**
 * The syntax tree both document readers produce, and the plain tree made from it, which remembers
 * the line of every key for error messages.
 */
import { ConfigError } from './config-error.js';

export type Scalar = string | number | boolean | null;

export interface Entry {
  readonly key: string;
  readonly line: number;
  readonly value: Node;
}

export type Node =
  | { readonly kind: 'scalar'; readonly value: Scalar; readonly line: number }
  | { readonly kind: 'list'; readonly items: readonly Node[]; readonly line: number }
  | { readonly kind: 'object'; readonly entries: readonly Entry[]; readonly line: number };

export type ObjectNode = Extract<Node, { kind: 'object' }>;

/** Where the parser saw things. Objects are the plain objects of the decoded tree. */
export interface LineLookup {
  /** Line of `key` inside `obj` (its first occurrence). */
  lineOfKey(obj: object, key: string): number | undefined;
  /** Line where `obj` (an object or a list) starts. */
  lineOf(obj: object): number | undefined;
}

export type PlainObject = { [key: string]: unknown };

export const isPlainObject = (v: unknown): v is PlainObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Remembers the lines of the plain objects and lists made from a syntax tree. */
export class SourceLines implements LineLookup {
  private readonly starts = new WeakMap<object, number>();
  private readonly keys = new WeakMap<object, Map<string, number>>();

  lineOf(obj: object): number | undefined {
    return this.starts.get(obj);
  }

  lineOfKey(obj: object, key: string): number | undefined {
    return this.keys.get(obj)?.get(key);
  }

  /**
   * The plain value of a node. A key given more than once becomes a list of its values when they
   * are all blocks/objects (repeated blocks, as in HCL), and is an error otherwise.
   */
  toPlain(node: Node, file: string): unknown {
    switch (node.kind) {
      case 'scalar':
        return node.value;
      case 'list': {
        const list = node.items.map((item) => this.toPlain(item, file));
        this.starts.set(list, node.line);
        return list;
      }
      case 'object':
        return this.objectToPlain(node, file);
    }
  }

  private objectToPlain(node: ObjectNode, file: string): PlainObject {
    const grouped = new Map<string, Entry[]>();
    for (const entry of node.entries) {
      const group = grouped.get(entry.key);
      if (group === undefined) grouped.set(entry.key, [entry]);
      else group.push(entry);
    }
    // Object.create(null): a key named "__proto__" or "constructor" is just a key.
    const obj = Object.create(null) as PlainObject;
    const lines = new Map<string, number>();
    for (const [key, entries] of grouped) {
      const [first, second] = entries;
      if (first === undefined) continue;
      lines.set(key, first.line);
      if (second === undefined) {
        obj[key] = this.toPlain(first.value, file);
        continue;
      }
      const repeated: unknown[] = [];
      for (const entry of entries) {
        const v = entry.value;
        if (v.kind === 'object') repeated.push(this.objectToPlain(v, file));
        else if (v.kind === 'list' && v.items.every((item) => item.kind === 'object')) {
          for (const item of v.items) repeated.push(this.toPlain(item, file));
        } else {
          const again = entries.find((e) => e !== first) ?? entry;
          throw new ConfigError(`is set more than once (first at line ${first.line})`, { file, key, line: again.line });
        }
      }
      this.starts.set(repeated, first.line);
      obj[key] = repeated;
    }
    this.starts.set(obj, node.line);
    this.keys.set(obj, lines);
    return obj;
  }
}
