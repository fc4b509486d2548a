/**
 * A real HTTP receiver for alert tests (node:http on an ephemeral port): records every request
 * with its headers, body and arrival time, and answers as the test scripts it — by default 200
 * "ok", as a Slack incoming webhook does. (Test support only; nothing in the collector imports it.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DELIVERY_ID_HEADER } from '@faultline/schema/alerts';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
  at: number;
  deliveryId: string;
  /** Which request this is for its delivery id (1 on the first attempt). */
  attempt: number;
  /** What the receiver answered. */
  status: number;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Hold the answer this long (or forever with Infinity: a receiver that hangs). */
  delayMs?: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests whose answer was 2xx, one per delivery id if nothing is sent twice. */
  accepted(): Received[];
  waitFor(count: number, timeoutMs?: number, filter?: (r: Received) => boolean): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(answer: (req: Omit<Received, 'status'>) => Answer = () => ({ status: 200, body: 'ok' })): Promise<Receiver> {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const deliveryId = String(req.headers[DELIVERY_ID_HEADER.toLowerCase()] ?? '');
      const attempt = (attempts.get(deliveryId) ?? 0) + 1;
      attempts.set(deliveryId, attempt);
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        // kept as text
      }
      const r = { path: req.url ?? '/', headers: req.headers, body, json, at: Date.now(), deliveryId, attempt };
      const a = answer(r);
      received.push({ ...r, status: a.status });
      const reply = () => {
        res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
        res.end(a.body ?? '');
      };
      if (a.delayMs === Infinity) return;
      if (a.delayMs) setTimeout(reply, a.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300),
    async waitFor(count, timeoutMs = 20_000, filter = () => true) {
      const deadline = Date.now() + timeoutMs;
      while (received.filter(filter).length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${received.filter(filter).length} of ${count} expected requests within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received.filter(filter);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
