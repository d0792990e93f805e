import type { Backend, BackendFactory, PathSpec } from '../../core/framework.js';

/**
 * The system backend, mounted at sys/. Its paths come from the services wired at start-up;
 * each group lives in its own paths-*.ts file and gets only what it needs.
 */
export function systemBackendFactory(paths: () => readonly PathSpec[]): BackendFactory {
  return (): Backend => ({ type: 'system', paths: paths() });
}
