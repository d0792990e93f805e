import type { AuditDevice } from '../types.js';

/** Stands in for a device whose stored configuration can no longer be used: every write fails (closed). */
export class UnusableDevice implements AuditDevice {
  readonly #reason: string;

  constructor(reason: string) {
    this.#reason = reason;
  }

  async open(): Promise<void> { throw new Error(this.#reason); }
  async write(): Promise<void> { throw new Error(this.#reason); }
  async reopen(): Promise<void> {}
  async close(): Promise<void> {}
}
