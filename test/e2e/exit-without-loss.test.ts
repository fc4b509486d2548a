/**
 * A runtime that ends while its collector is down (test/e2e/fixtures/exiting-runtime.ts, its own
 * process) loses no error: shutdown() delivers when the collector is back within its timeout;
 * otherwise what is left is named in one warning line, and the replay command it names sends it
 * later — to the collector it was written for, never to another. Each error arrives exactly once,
 * counted through the collector's API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../collector/src/testing.ts';
import { RestartableCollector, runSdkBin, runTs, sleep, tempDir } from './support.ts';

const SERVICE = 'exiting-runtime';
const FIXTURE = 'test/e2e/fixtures/exiting-runtime.ts';

/** Every session the runtime recorded shows one error occurrence and one change to `error`; every span is stored once. */
async function expectEachErrorOnce(collector: RestartableCollector, ids: string[]): Promise<void> {
  for (const id of ids) {
    const detail = await collector.session(id);
    expect(detail.session.errorCount, `errorCount of ${id}`).toBe(1);
    expect(detail.session.lastError?.code).toBe('AGT-PROVIDER-BILLING');
    expect(detail.timeline.filter((i) => i.kind === 'error'), `error occurrences of ${id}`).toHaveLength(1);
    expect(detail.timeline.filter((i) => i.kind === 'status' && i.state === 'error'), `status changes of ${id}`).toHaveLength(1);
  }
  const stored = await collector.storedSpans(SERVICE);
  expect([...stored.values()].every((n) => n === 1)).toBe(true);
}

describe.each(STORAGES)('a runtime that exits while the collector is down, on $name', (storage) => {
  let collector: RestartableCollector;
  let other: RestartableCollector;
  const tmp = tempDir('exit');

  beforeAll(async () => {
    collector = await RestartableCollector.start(storage);
    other = await RestartableCollector.start(storage);
  }, 60_000);
  afterAll(async () => {
    await collector?.close();
    await other?.close();
    tmp.remove();
  });

  const runtime = (env: Record<string, string>) =>
    runTs(FIXTURE, { FAULTLINE_ENDPOINT: collector.url, TMPDIR: tmp.path, FAILURES: '12', ...env });
  const recorded = async (child: ReturnType<typeof runtime>) => (await child.line(/^recorded /)).slice('recorded '.length).split(',');

  it('shutdown() delivers every error once when the collector is back within shutdownTimeoutMs', async () => {
    await collector.stop();
    const child = runtime({ SPOOL_DIR: `${tmp.path}/spool-a`, SHUTDOWN_TIMEOUT_MS: '30000' });
    const ids = await recorded(child);
    await child.line(/^shutting down$/);
    await sleep(800); // shutdown is retrying against a refused port meanwhile
    await collector.restart();
    const report = JSON.parse((await child.line(/^report /)).slice('report '.length));
    expect((await child.exited).code).toBe(0);
    expect(report).toMatchObject({ delivered: true, pendingSpans: 0, pendingBatches: 0, droppedSpans: 0 });
    expect(child.stderr()).not.toContain('[faultline]');
    expect(ids).toHaveLength(12);
    await expectEachErrorOnce(collector, ids);
  }, 60_000);

  it('past its timeout, one warning line names the spool; the replay command it gives sends each error once, and only to its collector', async () => {
    await collector.stop();
    const spoolDir = `${tmp.path}/spool-b`;
    const child = runtime({ SPOOL_DIR: spoolDir, SHUTDOWN_TIMEOUT_MS: '300' });
    const ids = await recorded(child);
    const report = JSON.parse((await child.line(/^report /)).slice('report '.length));
    expect((await child.exited).code).toBe(0);
    expect(report.delivered).toBe(false);
    expect(report.pendingSpans).toBeGreaterThan(ids.length);

    const warnings = child.stderr().split('\n').filter((l) => l.startsWith('[faultline]'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`wait in ${report.spoolDir}`);
    const command = /or now with: (npx faultline-sdk replay .+)$/.exec(warnings[0])?.[1];
    expect(command).toBe(`npx faultline-sdk replay --spool-dir ${spoolDir} --endpoint ${collector.url}`);
    const args = command!.split(' ').slice(2);

    // Pointed at another collector, the command sends nothing and says whose batches these are.
    const elsewhere = await runSdkBin([...args.slice(0, -1), other.url], {});
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    expect(elsewhere.stdout).toContain(`Nothing spooled for ${other.url}/v1/traces`);
    expect(elsewhere.stdout).toContain(`written for ${collector.url}/v1/traces; they are only sent there`);
    expect(await other.sessions(`service=${SERVICE}`)).toHaveLength(0);

    await collector.restart();
    const sent = await runSdkBin(args, {});
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain(`(${report.pendingSpans} spans)`);
    await expectEachErrorOnce(collector, ids);

    const again = await runSdkBin(args, {});
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Nothing spooled for ${collector.url}/v1/traces`);
    await expectEachErrorOnce(collector, ids);
  }, 60_000);

  it('with shutdownOnExit, SIGTERM delivers what waited, then the process still ends by SIGTERM', async () => {
    await collector.stop();
    const child = runtime({ EXIT: 'signal', SPOOL_DIR: `${tmp.path}/spool-c`, SHUTDOWN_TIMEOUT_MS: '30000' });
    const ids = await recorded(child);
    await child.line(/^waiting$/);
    child.child.kill('SIGTERM');
    await sleep(500);
    await collector.restart();
    const { code, signal } = await child.exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(child.stderr()).not.toContain('[faultline]'); // nothing was left behind
    await expectEachErrorOnce(collector, ids);
  }, 60_000);
});

describe('faultline-sdk on a wrong command line', () => {
  it('explains its usage, and names what is wrong with exit status 2', async () => {
    const help = await runSdkBin(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: faultline-sdk replay --spool-dir <dir> --endpoint <url>');
    // The bin an installed package runs: the built file, with plain node.
    const built = await runSdkBin(['--help'], {}, { built: true });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toBe(help.stdout);

    const badUrl = await runSdkBin(['replay', '--spool-dir', '.', '--endpoint', 'collector:4318/v1'], {});
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('--endpoint "collector:4318/v1" is not an http(s) URL');

    const noDir = await runSdkBin(['replay', '--spool-dir', '/nonexistent/spool', '--endpoint', 'http://127.0.0.1:9'], {});
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain('no spool directory at /nonexistent/spool');
  }, 30_000);
});
