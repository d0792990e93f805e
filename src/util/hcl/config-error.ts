/**
 * A config that cannot be used. The message names the file, the line (when known) and the key,
 * compiler style: `/etc/coffer/coffer.hcl:7: listener "tcp".address: port 99999 is out of range`.
 * The same parts are available as fields. Messages never contain a secret value
 * (a connection URL is never echoed).
 */
export class ConfigError extends Error {
  /** The config file (or source name) at fault, if any. */
  readonly file: string | undefined;
  /** The key at fault, e.g. `listener "tcp".address`, if any. */
  readonly key: string | undefined;
  /** 1-based line in the file, when it could be found. */
  readonly line: number | undefined;
  /** The message without the file/line/key prefix. */
  readonly problem: string;

  constructor(problem: string, where: { file?: string | undefined; key?: string | undefined; line?: number | undefined } = {}) {
    const place = where.file === undefined ? '' : where.line === undefined ? `${where.file}: ` : `${where.file}:${where.line}: `;
    const key = where.key === undefined ? '' : `${where.key}: `;
    super(`${place}${key}${problem}`);
    this.name = 'ConfigError';
    this.file = where.file;
    this.key = where.key;
    this.line = where.line;
    this.problem = problem;
  }
}
