/**
 * Wires storage, the ingest pipeline, the watchdog and the app, and serves it over HTTP and, unless
 * FAULTLINE_GRPC_PORT is off, OTLP/gRPC. Used by `npm start` (main.ts), by tests (port 0) and by
 * scripts that embed a collector.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { codesOf, type Config } from './config.ts';
import { createApp } from './app.ts';
import type { CollectorDeps } from './deps.ts';
import { EventBus } from './events.ts';
import { IngestPipeline } from './ingest/pipeline.ts';
import { startGrpcServer, type GrpcServer } from './ingest/grpc.ts';
import { openStore, type Store } from './store/db.ts';
import { startWatchdog } from './sessions/watchdog.ts';
import { loadErrorsByIds, loadSessionsByIds } from './sessions/rows.ts';
import { startRetention } from './store/retention.ts';
import type { BatchWriteResult } from './store/write-batch.ts';

export interface RunningCollector {
  url: string;
  port: number;
  /** OTLP/gRPC port, null when gRPC is off. */
  grpcPort: number | null;
  deps: CollectorDeps;
  close(): Promise<void>;
}

/** Build the collector's parts around an open store (tests pass a cloned PGlite). */
export function buildCollector(config: Config, store: Store): { deps: CollectorDeps; stop: () => Promise<void> } {
  const events = new EventBus();
  const metrics = { stuckFlagged: 0, sweeps: 0, retentionDeleted: 0 };
  const publishWritten = async (result: BatchWriteResult) => {
    if (events.size === 0) return;
    const errorIds = result.newErrors.map((s) => s.error!.id);
    for (const error of await loadErrorsByIds(store.db, errorIds, codesOf(config))) events.publish({ type: 'error', error });
    for (const session of await loadSessionsByIds(store.db, result.sessionIds)) events.publish({ type: 'session', session });
  };
  // PGlite executes one transaction at a time: more writers would only queue inside it.
  const pipeline = new IngestPipeline(store, { ...config, writers: store.kind === 'pglite' ? 1 : config.writers }, publishWritten);
  const deps: CollectorDeps = { config, store, pipeline, events, metrics };
  const stopWatchdog = startWatchdog(
    store,
    config,
    async (ids) => {
      if (events.size === 0) return;
      for (const session of await loadSessionsByIds(store.db, ids)) events.publish({ type: 'stuck', session });
    },
    metrics,
  );
  const stopRetention = startRetention(store, config, metrics);
  return {
    deps,
    async stop() {
      await stopWatchdog();
      await stopRetention();
      await pipeline.close();
    },
  };
}

export async function startCollector(config: Config, options: { store?: Store } = {}): Promise<RunningCollector> {
  const store = options.store ?? (await openStore(config));
  const { deps, stop } = buildCollector(config, store);
  const app = createApp(deps);
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const closeHttp = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  let grpcServer: GrpcServer | null = null;
  if (config.grpcPort !== null) {
    try {
      grpcServer = await startGrpcServer(config, deps.pipeline, config.grpcPort);
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
        // Stop accepting, finish queued writes, then close the database.
        await Promise.all([closeHttp(), grpcServer?.close()]);
        await stop();
        await store.close();
      })();
      return closing;
    },
  };
}
