/**
 * Wires storage, the ingest pipeline, the watchdog and the app, and serves it over HTTP and, unless
 * FAULTLINE_GRPC_PORT is off, OTLP/gRPC. Used by `npm start` (main.ts), by tests (port 0) and by
 * scripts that embed a collector.
 */
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve, type ServerType } from '@hono/node-server';
import { codesOf, type Config } from './config.ts';
import { createApp } from './app.ts';
import type { CollectorDeps } from './deps.ts';
import { EventBus } from './events.ts';
import { isPortTaken, portTakenError } from './errors.ts';
import { IngestPipeline } from './ingest/pipeline.ts';
import { RequestPreparer } from './ingest/prepare.ts';
import { startGrpcServer, type GrpcServer } from './ingest/grpc.ts';
import { openStore, type Store } from './store/db.ts';
import { startWatchdog } from './sessions/watchdog.ts';
import { loadErrorsByIds, loadSessionsByIds } from './sessions/rows.ts';
import { startRetention } from './store/retention.ts';
import { startMaintenance } from './store/maintenance.ts';
import { StorageHealth } from './store/health.ts';
import type { BatchWriteResult } from './store/write-batch.ts';
import { AlertRuntime, type AlertRuntimeOptions } from './alerts/runtime.ts';
import { LiveChanges } from './live-changes.ts';
import { hubOf } from './api/stream.ts';

/** After the last request in flight, how long open connections keep getting 503s before the listener closes. */
const DRAIN_GRACE_MS = 300;

export interface RunningCollector {
  url: string;
  port: number;
  /** OTLP/gRPC port, null when gRPC is off. */
  grpcPort: number | null;
  deps: CollectorDeps;
  close(): Promise<void>;
}

/** Build the collector's parts around an open store (tests pass a cloned PGlite). */
export function buildCollector(
  config: Config,
  store: Store,
  options: { alerts?: AlertRuntimeOptions } = {},
): { deps: CollectorDeps; stop: () => Promise<void> } {
  const events = new EventBus();
  const metrics = { stuckFlagged: 0, sweeps: 0, retentionDeleted: 0, checkpoints: 0, vacuums: 0 };
  const health = new StorageHealth(store.kind, store.probe ? (signal) => store.probe!(signal) : null, { probeTimeoutMs: config.dbProbeTimeoutMs, connectTimeoutMs: config.dbConnectTimeoutMs });
  health.start();
  const alerts = new AlertRuntime(store, config, options.alerts);
  const hub = hubOf({ events, config });
  // Coalesced per window: a burst of writes to one session is sent once, in its latest state.
  const liveChanges = new LiveChanges(events, {
    windowMs: config.sseCoalesceMs,
    loadErrors: (ids) => loadErrorsByIds(store.db, ids, codesOf(config)),
    loadSessions: (ids) => loadSessionsByIds(store.db, ids),
    reset: (reset) => hub.broadcastReset(reset),
  });
  const publishWritten = async (result: BatchWriteResult) => {
    liveChanges.add(
      result.newErrors.map((s) => s.error!.id),
      result.sessionIds,
    );
  };
  // PGlite executes one transaction at a time: more writers would only queue inside it.
  const pipeline = new IngestPipeline(
    store,
    { ...config, writers: store.kind === 'pglite' ? 1 : config.writers },
    (result) => {
      if ((result.alertEvents ?? 0) > 0) alerts.wake();
      return publishWritten(result);
    },
    async (tx, result) => {
      result.alertEvents = await alerts.afterIngestWrite(tx, result);
    },
    health,
  );
  const preparer = new RequestPreparer({ limits: config.otlpLimits });
  const deps: CollectorDeps = { config, store, pipeline, preparer, events, health, lifecycle: { draining: false, inFlight: 0 }, metrics, alerts };
  const stopWatchdog = startWatchdog(
    store,
    config,
    async (ids) => {
      alerts.wake();
      if (events.size === 0) {
        events.markUnobserved();
        return;
      }
      for (const session of await loadSessionsByIds(store.db, ids)) events.publish({ type: 'stuck', session });
    },
    metrics,
    alerts.afterStuck,
  );
  const stopRetention = startRetention(store, config, metrics);
  const stopMaintenance = startMaintenance(store, config, metrics);
  return {
    deps,
    async stop() {
      await alerts.stop();
      await stopWatchdog();
      await stopRetention();
      await stopMaintenance();
      await pipeline.close();
      await liveChanges.close();
      await preparer.close();
      health.stop();
    },
  };
}

export async function startCollector(config: Config, options: { store?: Store; alerts?: AlertRuntimeOptions } = {}): Promise<RunningCollector> {
  const store = options.store ?? (await openStore(config));
  const { deps, stop } = buildCollector(config, store, { alerts: options.alerts });
  try {
    // Rules loaded (and the FAULTLINE_ALERTS file written) before the first span can fire one.
    await deps.alerts.start();
  } catch (err) {
    await stop();
    await store.close();
    throw err;
  }
  const app = createApp(deps);
  let server: ServerType;
  try {
    server = await new Promise((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
      s.once('error', reject);
    });
  } catch (err) {
    await stop();
    await store.close();
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    throw isPortTaken(err) ? portTakenError('http', host, config.port, err) : err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  deps.alerts.setBaseUrl(`http://${host}:${port}`);
  const closeHttp = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  // Drain. New requests (on open connections, and on new ones while we still listen) are answered
  // 503 + Retry-After + Connection: close; the requests in flight finish and their writes commit;
  // live streams end. Only then does the listener close — closing it first would cut idle
  // keep-alive connections that a client is just sending on (a reset). After
  // FAULTLINE_SHUTDOWN_TIMEOUT_MS whatever is still open is cut.
  const drainHttp = async () => {
    const lifecycle = deps.lifecycle;
    lifecycle.draining = true;
    deps.events.close();
    const deadline = Date.now() + config.shutdownTimeoutMs;
    while (lifecycle.inFlight > 0 && Date.now() < deadline) await sleep(20);
    // Requests already sent on open connections get their 503 before those close.
    await sleep(Math.min(DRAIN_GRACE_MS, Math.max(0, deadline - Date.now())));
    const http = server as unknown as { closeAllConnections(): void };
    await new Promise<void>((resolve) => {
      const cut = setTimeout(() => http.closeAllConnections(), Math.max(0, deadline - Date.now()));
      server.close(() => {
        clearTimeout(cut);
        resolve();
      });
    });
  };
  let grpcServer: GrpcServer | null = null;
  if (config.grpcPort !== null) {
    try {
      grpcServer = await startGrpcServer(config, deps.pipeline, deps.preparer, config.grpcPort);
    } catch (err) {
      await closeHttp();
      await stop();
      await store.close();
      throw err;
    }
  }
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    grpcPort: grpcServer?.port ?? null,
    deps,
    close() {
      closing ??= (async () => {
        // Drain HTTP (below) and gRPC (calls in flight finish) together, then finish queued writes and close the database.
        await Promise.all([drainHttp(), grpcServer?.close()]);
        await stop();
        await store.close();
      })();
      return closing;
    },
  };
}
