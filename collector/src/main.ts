/** `npm start`: the collector with the dashboard, on embedded storage unless DATABASE_URL is set. */
import { loadConfig } from './config.ts';
import { FaultlineError } from './errors.ts';
import { startCollector } from './server.ts';

try {
  const config = loadConfig();
  const collector = await startCollector(config);
  const { store } = collector.deps;
  console.log(`Faultline collector listening on ${collector.url}`);
  console.log(`  dashboard:   ${collector.url}/`);
  console.log(`  OTLP/HTTP:   ${collector.url}/v1/traces, /v1/logs  (protobuf or JSON; /v1/metrics answered, not stored)`);
  if (collector.grpcPort !== null) {
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    console.log(`  OTLP/gRPC:   http://${host}:${collector.grpcPort}  (traces and logs; FAULTLINE_GRPC_PORT=off turns it off)`);
  } else console.log('  OTLP/gRPC:   off (FAULTLINE_GRPC_PORT=off)');
  if (!config.storePrompts) console.log('  prompts:     not stored (FAULTLINE_STORE_PROMPTS unset)');
  console.log(`  storage:     ${store.location}`);
  if (config.ingestKeys.length === 0) console.log('  ingest keys: none (FAULTLINE_INGEST_KEYS unset; loopback only)');
  if (!config.apiToken) console.log('  API token:   none (FAULTLINE_API_TOKEN unset; loopback only)');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: finishing queued writes and closing storage…`);
    collector.close().then(
      () => process.exit(0),
      (err) => {
        console.error('Shutdown failed:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (err) {
  console.error(err instanceof FaultlineError ? err.message : err);
  process.exit(1);
}
