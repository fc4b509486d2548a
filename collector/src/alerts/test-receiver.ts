/**
 * A real HTTP receiver for alert tests (node:http on an ephemeral port): records every request
 * with its headers, body and arrival time, and answers as the test scripts it — by default 200
 * "ok", as a Slack incoming webhook does. (Test support only; nothing in the collector imports it.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { DELIVERY_ID_HEADER, type AlertRule, type Delivery, type DestinationCreated } from '@faultline/schema/api';
import type { KnownBlock } from '@slack/types';
import type { RunningCollector } from '../server.ts';
import type { SlackMessage } from './slack.ts';

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

/** The /api/alerts routes of a running collector, as a test calls them. */
export function alertApi(collector: RunningCollector) {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T; text: string }> => {
    const res = await fetch(`${collector.url}/api/alerts${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : null) as T, text };
  };
  return {
    call,
    async destination(body: Record<string, unknown>): Promise<DestinationCreated> {
      const r = await call<DestinationCreated>('POST', '/destinations', body);
      expect(r.status, r.text).toBe(201);
      return r.json;
    },
    async rule(body: Record<string, unknown>): Promise<AlertRule> {
      const r = await call<AlertRule>('POST', '/rules', body);
      expect(r.status, r.text).toBe(201);
      return r.json;
    },
    async deliveries(query = ''): Promise<Delivery[]> {
      return (await call<{ items: Delivery[] }>('GET', `/deliveries${query}`)).json.items;
    },
  };
}

/** What Slack checks of the blocks we send (its API answers invalid_blocks otherwise). */
export function expectValidBlockKit(message: SlackMessage): void {
  expect(typeof message.text).toBe('string');
  expect(message.text.length).toBeGreaterThan(0);
  expect(message.text.length).toBeLessThanOrEqual(40_000);
  expect(message.blocks.length).toBeGreaterThan(0);
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  const mrkdwnOk = (t: string) => {
    // Only our own links use < and >: <url|label>, with no < or > inside.
    const bare = t.replace(/<[^<>|\s]+\|[^<>]*>/g, '');
    expect(bare).not.toMatch(/[<>]/);
  };
  for (const b of message.blocks as KnownBlock[]) {
    switch (b.type) {
      case 'header':
        expect(b.text.type).toBe('plain_text');
        expect(b.text.text.length).toBeGreaterThan(0);
        expect(Array.from(b.text.text).length).toBeLessThanOrEqual(150);
        break;
      case 'section':
        expect(b.text?.type).toBe('mrkdwn');
        expect(b.text!.text.length).toBeGreaterThan(0);
        expect(b.text!.text.length).toBeLessThanOrEqual(3000);
        mrkdwnOk(b.text!.text);
        break;
      case 'context':
        expect(b.elements.length).toBeGreaterThan(0);
        expect(b.elements.length).toBeLessThanOrEqual(10);
        for (const e of b.elements) {
          expect(e.type).toBe('mrkdwn');
          if (e.type === 'mrkdwn') {
            expect(e.text.length).toBeLessThanOrEqual(3000);
            mrkdwnOk(e.text);
          }
        }
        break;
      default:
        throw new Error(`unexpected block type ${b.type}`);
    }
  }
  // What is posted is JSON with nothing but these fields.
  expect(Object.keys(JSON.parse(JSON.stringify(message))).sort()).toEqual(['blocks', 'text']);
}
