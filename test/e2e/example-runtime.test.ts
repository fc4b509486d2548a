/**
 * The SDK's example runtime (examples/agent-runtime.ts), run as its own process against a real
 * collector: what its four sessions did must be readable through the collector's API, in the
 * words a user would see, with the status change to `error` before the error that caused it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCatalogEntry, renderUserMessage, type Session, type SessionDetail, type TimelineItem } from '@faultline/schema';
import { STORAGES } from '../../collector/src/testing.ts';
import { RestartableCollector, runTs, tempDir } from './support.ts';

const SERVICE = 'example-agent-runtime';

/** Index of the first status item announcing `error`, and of the first error item. */
function statusBeforeError(timeline: TimelineItem[]): { status: number; error: number } {
  return {
    status: timeline.findIndex((i) => i.kind === 'status' && i.state === 'error'),
    error: timeline.findIndex((i) => i.kind === 'error'),
  };
}

describe.each(STORAGES)('example agent runtime through the collector on $name', (storage) => {
  let collector: RestartableCollector;
  const tmp = tempDir('example');
  const byAgent = new Map<string, Session[]>();
  const details = new Map<string, SessionDetail>();
  let printed: string[] = [];

  const only = (agent: string, predicate: (s: Session) => boolean = () => true): SessionDetail => {
    const matches = (byAgent.get(agent) ?? []).filter(predicate);
    expect(matches, `sessions of agent ${agent}`).toHaveLength(1);
    return details.get(matches[0].id)!;
  };

  beforeAll(async () => {
    collector = await RestartableCollector.start(storage);
    // TMPDIR gives the example a spool of its own: nothing left by another run is replayed here.
    const run = runTs('examples/agent-runtime.ts', { FAULTLINE_ENDPOINT: collector.url, TMPDIR: tmp.path });
    const { code } = await run.exited;
    printed = run.lines;
    expect(code, printed.join('\n')).toBe(0);
    for (const s of await collector.sessions(`service=${SERVICE}&includeTest=true&limit=50`)) {
      byAgent.set(s.agent ?? '', [...(byAgent.get(s.agent ?? '') ?? []), s]);
      details.set(s.id, await collector.session(s.id));
    }
  }, 90_000);
  afterAll(async () => {
    await collector?.close();
    tmp.remove();
  });

  it('shows all four sessions, every one of them with the ids the example printed', () => {
    expect([...details.keys()]).toHaveLength(4);
    for (const id of details.keys()) expect(printed.some((line) => line.includes(id))).toBe(true);
    // Every span the runtime exported arrived: its own stats line says nothing was spooled or dropped.
    const stats = printed.slice(printed.findIndex((l) => l.startsWith('stats:'))).join('\n');
    expect(stats).toMatch(/droppedSpans: 0\b/);
    expect(stats).toMatch(/spooledBatches: 0\b/);
    expect(stats).toMatch(/spansExported: [1-9]/);
  });

  it('billing: AGT-PROVIDER-BILLING with the friendly message naming Anthropic, no provider text', () => {
    const { session, timeline } = only('assistant', (s) => s.state === 'error');
    const entry = getCatalogEntry('AGT-PROVIDER-BILLING')!;
    const words = renderUserMessage(entry, { provider: 'anthropic', model: 'claude-sonnet-4-5' });
    expect(session.lastError).toMatchObject({ code: 'AGT-PROVIDER-BILLING', category: 'provider', message: words });
    expect(session.lastError!.message).toContain('Anthropic');
    expect(session.lastError!.message).not.toMatch(/credit balance|invalid_request_error|400/);
    expect(session.statusMessage).toBe(words);
    expect(session.errorCount).toBe(1);
    // ready → running (turn) → error, and the turn carries the error with the upstream details.
    expect(timeline.filter((i) => i.kind === 'status').map((i) => i.state)).toEqual(['starting', 'ready', 'running', 'error']);
    const error = timeline.find((i) => i.kind === 'error')!;
    expect(error.code).toBe('AGT-PROVIDER-BILLING');
    expect(error.name).toBe('invoke_agent assistant');
    // The provider said 400; the catalog's normalised status for billing is 402.
    expect(error.error).toMatchObject({ httpStatus: entry.httpStatus, upstreamStatus: 400, upstreamType: 'invalid_request_error', exceptionType: 'BadRequestError' });
    expect(error.error!.technicalMessage).toContain('credit balance is too low');
    const order = statusBeforeError(timeline);
    expect(order.status).toBeGreaterThanOrEqual(0);
    expect(order.status).toBeLessThan(order.error);
  });

  it('tool timeout: AGT-TIMEOUT-CLI-EXEC on the tool with faultline.timeout.kind cli_exec', () => {
    const { session, timeline } = only('coder');
    expect(session.state).toBe('error');
    expect(session.lastError?.code).toBe('AGT-TIMEOUT-CLI-EXEC');
    expect(session.lastError?.message).toBe(renderUserMessage('AGT-TIMEOUT-CLI-EXEC', { provider: 'openai', model: 'gpt-5' }));
    const errors = timeline.filter((i) => i.kind === 'error');
    // The tool span holds the exception; the turn it escaped fails with the same code.
    const tool = errors.find((i) => i.name === 'execute_tool run_tests')!;
    expect(tool.code).toBe('AGT-TIMEOUT-CLI-EXEC');
    expect(tool.details['faultline.timeout.kind']).toBe('cli_exec');
    expect(tool.error?.timeoutKind).toBe('cli_exec');
    expect(tool.error?.technicalMessage).toContain('npm test');
    // The turn's answer never arrived.
    expect(timeline.some((i) => i.details['faultline.output.text'] !== undefined)).toBe(false);
    // The tool failed while the session was still running (an agent may recover from a tool
    // failure, so the SDK leaves the state alone); when the error escaped the turn, the session
    // moved to `error` before the turn ended with the same code.
    const status = timeline.find((i) => i.kind === 'status' && i.state === 'error')!;
    const turn = timeline.find((i) => i.name === 'invoke_agent coder')!;
    expect(turn.code).toBe('AGT-TIMEOUT-CLI-EXEC');
    expect(Date.parse(tool.endAt!)).toBeLessThanOrEqual(Date.parse(status.at));
    expect(Date.parse(status.at)).toBeLessThan(Date.parse(turn.endAt!));
    expect(session.errorCount).toBeGreaterThanOrEqual(1);
  });

  it('worker crash: AGT-TIMEOUT-HEARTBEAT with the last heartbeat details, after its heartbeats', () => {
    const { session, timeline } = only('researcher');
    expect(session.state).toBe('error');
    expect(session.lastError?.code).toBe('AGT-TIMEOUT-HEARTBEAT');
    expect(session.lastHeartbeat?.details).toMatchObject({ events_processed: 15, phase: 'tool_calls' });
    const beats = timeline.filter((i) => i.kind === 'heartbeat');
    expect(beats.map((b) => b.details.events_processed)).toEqual(expect.arrayContaining([5, 10, 15]));
    const error = timeline.find((i) => i.kind === 'error')!;
    expect(error.code).toBe('AGT-TIMEOUT-HEARTBEAT');
    expect(error.details['faultline.timeout.kind']).toBe('heartbeat');
    expect(error.details['faultline.temporal.timeout_type']).toBe('HEARTBEAT');
    expect(JSON.parse(String(error.details['faultline.temporal.last_heartbeat_details']))).toEqual({ events_processed: 15, phase: 'tool_calls' });
    expect(error.error?.exceptionType).toBe('TimeoutFailure');
    const order = statusBeforeError(timeline);
    expect(order.status).toBeGreaterThanOrEqual(0);
    expect(order.status).toBeLessThan(order.error);
    expect(timeline.findIndex((i) => i.kind === 'heartbeat')).toBeLessThan(order.status);
  });

  it('success: completed with the answer, no error, turn and tool in the timeline', async () => {
    const { session, timeline } = only('assistant', (s) => s.state === 'completed');
    expect(session).toMatchObject({ state: 'completed', lastError: null, errorCount: 0, stuck: false });
    expect(session.endedAt).not.toBeNull();
    // The turn moved the session to running, so it starts after that status, and its tool after it.
    expect(timeline.map((i) => (i.kind === 'status' ? i.state : i.kind))).toEqual(['starting', 'ready', 'running', 'turn', 'tool', 'ready', 'completed']);
    expect(timeline.some((i) => i.kind === 'error')).toBe(false);
    const latest = await fetch(`${collector.url}/api/sessions/${session.id}/latest`).then((r) => r.json());
    expect(latest).toMatchObject({ kind: 'output', text: 'The project has 2 files.', state: 'completed' });
  });
});
