export { init, Faultline } from './faultline.ts';
export type { FaultlineOptions } from './config.ts';
export { Session } from './session.ts';
export type { SessionOptions, TurnContext, ToolContext } from './session.ts';
export type { ClientError, FailContext } from './errors.ts';
export type { FaultlineStats } from './guard.ts';
export { withTimeout, FaultlineTimeoutError, TIMEOUT_CODES } from './timeout.ts';
export type { WithTimeoutOptions } from './timeout.ts';
export { SpoolingExporter } from './spooling-exporter.ts';
