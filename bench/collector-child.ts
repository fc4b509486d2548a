/**
 * A collector in its own process for the ingest benchmark, so the load generator does not share
 * its event loop. Configured from the environment like `npm start` (DATABASE_URL or
 * FAULTLINE_DATA_DIR, PORT=0). Talks to the parent over IPC: prints nothing, sends
 * `{ready, url}`, answers `count` with row counts, pipeline stats and the process's CPU time so
 * far (embedded PGlite included), and `close` by closing.
 */
import { loadConfig } from '../collector/src/config.ts';
import { startCollector } from '../collector/src/server.ts';

type Request = { cmd: 'count' } | { cmd: 'close' };

const send = (message: unknown) => process.send?.(message);

const collector = await startCollector(loadConfig());
const { store, pipeline } = collector.deps;
send({ ready: true, url: collector.url });

process.on('message', (message: Request) => {
  void (async () => {
    try {
      if (message.cmd === 'count') {
        const [row] = await store.query<{ spans: string; sessions: string; errors: string }>(
          'select (select count(*) from spans) as spans, (select count(*) from sessions) as sessions, (select count(*) from errors) as errors',
        );
        const cpu = process.cpuUsage();
        send({
          count: { spans: Number(row.spans), sessions: Number(row.sessions), errors: Number(row.errors) },
          stats: pipeline.stats,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
        });
      } else if (message.cmd === 'close') {
        await collector.close();
        send({ closed: true });
        process.disconnect?.();
        // Let a --cpu-prof profile be written on a normal exit.
        setTimeout(() => process.exit(0), 50).unref();
      }
    } catch (err) {
      send({ error: (err as Error).message });
    }
  })();
});
process.on('disconnect', () => {
  void collector.close().finally(() => process.exit(0));
});
