/**
 * Live viewers for the SSE benchmark, in their own process so reading streams does not share the
 * load generator's event loop: opens `SSE_VIEWERS` streams to `${SSE_URL}/api/stream` and reads
 * them as a browser would. IPC: `{ready}` once every stream said hello; `stats` → events received
 * by name, bytes, and streams that ended (a dropped viewer); `close` ends them all.
 */
const url = process.env.SSE_URL!;
const n = Number(process.env.SSE_VIEWERS);
const send = (m: unknown) => process.send?.(m);

const stats = { events: {} as Record<string, number>, bytes: 0, ended: 0, hellos: 0 };
const controller = new AbortController();
const NAMES = ['hello', 'reset', 'session', 'occurrence', 'stuck'];
const NEEDLES = NAMES.map((name) => [name, Buffer.from(`\nevent: ${name}\n`)] as const);
const HELLO = Buffer.from('event: hello\n');
let closing = false;

async function viewer(): Promise<void> {
  const res = await fetch(`${url}/api/stream`, { signal: controller.signal });
  if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${await res.text()}`);
  const reader = res.body!.getReader();
  let hello = false;
  for (;;) {
    const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
    if (done) {
      if (!closing) stats.ended++;
      return;
    }
    // Counted on the raw bytes (a name cut across two chunks is missed: rare, and only a count);
    // decoding 100 streams into strings would steal the collector's CPU on a small machine.
    const chunk = Buffer.from(value!.buffer, value!.byteOffset, value!.byteLength);
    stats.bytes += chunk.length;
    for (const [name, needle] of NEEDLES) {
      for (let at = chunk.indexOf(needle); at >= 0; at = chunk.indexOf(needle, at + needle.length)) stats.events[name] = (stats.events[name] ?? 0) + 1;
    }
    if (!hello && chunk.includes(HELLO)) {
      hello = true;
      stats.hellos++;
      if (stats.hellos === n) send({ ready: true });
    }
  }
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
