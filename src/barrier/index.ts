export { Barrier, RESERVED_PATHS, KEYRING_PATH, type KeyStatus } from './barrier.js';
export { DEFAULT_ROTATION_THRESHOLD } from './keyring.js';
export { seal as aeadSeal, open as aeadOpen } from './aead.js';
