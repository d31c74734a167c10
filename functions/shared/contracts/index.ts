// The one home of every message kubepulse sends between its parts.
export * from './alert.js';
export * from './anomaly.js';
export * from './common.js';
export * from './prediction.js';
export * from './remediation.js';
export * from './shipper.js';
export * from './wire.js';
