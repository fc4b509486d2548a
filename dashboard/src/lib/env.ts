/**
 * Where telemetry should be sent. In production the collector serves this page, so it is this
 * origin; the Vite dev server proxies the API but is not the collector.
 */
export const collectorUrl: string =
  import.meta.env.DEV || typeof location === 'undefined' ? 'http://127.0.0.1:4318' : location.origin;
