/** Folds sorted keys under `prefix` into its direct children: leaves as-is, folders once with '/'. */
export function childrenOf(prefix: string, sortedKeys: Iterable<string>): string[] {
  const out: string[] = [];
  let lastFolder = '';
  for (const key of sortedKeys) {
    const rest = key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) {
      out.push(rest);
    } else {
      const folder = rest.slice(0, slash + 1);
      if (folder !== lastFolder) {
        out.push(folder);
        lastFolder = folder;
      }
    }
  }
  return out;
}
