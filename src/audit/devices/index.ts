import type { DeviceType } from '../types.js';
import { fileDeviceType } from './file.js';
import { httpDeviceType } from './http.js';
import { socketDeviceType } from './socket.js';
import { syslogDeviceType } from './syslog.js';

export { FileDevice, type FileDeviceOptions, type FileDeviceStats } from './file.js';
export { HttpDevice, type HttpDeviceOptions } from './http.js';
export { SocketDevice, type SocketDeviceOptions } from './socket.js';
export { SyslogDevice, type SyslogDeviceOptions } from './syslog.js';
export { UnusableDevice } from './unusable.js';

/** The audit device types `sys/audit/:path` can enable. */
export const DEVICE_TYPES: ReadonlyMap<string, DeviceType> = new Map([
  ['file', fileDeviceType],
  ['syslog', syslogDeviceType],
  ['socket', socketDeviceType],
  ['http', httpDeviceType],
]);
