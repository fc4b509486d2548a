/**
 * Live viewers for the SSE benchmark, in their own process so reading streams does not share the
 * load generator's event loop: opens `SSE_VIEWERS` streams to `${SSE_URL}/api/stream` and reads
 * them as a browser would. IPC: `{ready}` once every stream said hello; `stats` → events received
 * by name, bytes, and streams that ended (a dropped viewer); `close` ends them all.
 */
import http from 'node:http';

const url = process.env.SSE_URL!;
const n = Number(process.env.SSE_VIEWERS);
const send = (m: unknown) => process.send?.(m);

const stats = { events: {} as Record<string, number>, bytes: 0, ended: 0, hellos: 0 };
const controller = new AbortController();
const NAMES = ['hello', 'reset', 'session', 'occurrence', 'stuck'];
const NEEDLES = NAMES.map((name) => [name, Buffer.from(`\nevent: ${name}\n`)] as const);
const HELLO = Buffer.from('event: hello\n');
let closing = false;

/** One viewer on node:http (no web streams): the cheapest reader, standing in for a browser elsewhere. */
function viewer(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/api/stream`, { agent: false, signal: controller.signal }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream answered ${res.statusCode}`));
        res.resume();
        return;
      }
      let hello = false;
      res.on('data', (chunk: Buffer) => {
        // Counted on the raw bytes (a name cut across two chunks is missed: rare, and only a count).
        stats.bytes += chunk.length;
        for (const [name, needle] of NEEDLES) {
          for (let at = chunk.indexOf(needle); at >= 0; at = chunk.indexOf(needle, at + needle.length)) stats.events[name] = (stats.events[name] ?? 0) + 1;
        }
        if (!hello && chunk.includes(HELLO)) {
          hello = true;
          stats.hellos++;
          if (stats.hellos === n) send({ ready: true });
        }
      });
      res.on('end', () => {
        if (!closing) stats.ended++;
        resolve();
      });
      res.on('error', () => {
        if (!closing) stats.ended++;
        resolve();
      });
    });
    req.on('error', (err) => (closing ? resolve() : reject(err)));
  });
}

const all = Array.from({ length: n }, () => viewer().catch((err: Error) => {
  if (!closing) send({ error: err.message });
}));
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'stats') send({ stats });
  if (m.cmd === 'close') {
    closing = true;
    controller.abort();
    void Promise.allSettled(all).then(() => {
      send({ closed: true });
      process.exit(0);
    });
  }
});
process.on('disconnect', () => process.exit(0));
