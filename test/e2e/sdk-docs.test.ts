/**
 * The SDK's documentation, run as written against a real collector: the quick start of README.md,
 * the quick start and the "One failure, one occurrence" patterns of sdk/README.md, and its replay
 * command. The only code added is what the snippets leave to the runtime (callModel, runCli, ui, …),
 * failing the way the real thing fails. Every failure must be one error occurrence and one status
 * change to `error` in the collector, and the payload the user saw must name the stored code.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCatalogEntry, type SessionDetail } from '@faultline/schema';
import { init } from '@faultline/sdk';
import { STORAGES } from '../../collector/src/testing.ts';
import { REPO_ROOT, RestartableCollector, runSdkBin, runTs } from './support.ts';

interface Block {
  lang: string;
  code: string;
  /** The `##` section the block is in. */
  section: string;
}

/** Fenced code blocks of a markdown file, with their section. */
function codeBlocks(file: string): Block[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  const blocks: Block[] = [];
  let section = '';
  const fence = /^## (.+)$|^```(\w*)\n([\s\S]*?)^```$/gm;
  for (const match of text.matchAll(fence)) {
    if (match[1] !== undefined) section = match[1].trim();
    else blocks.push({ lang: match[2], code: match[3], section });
  }
  return blocks;
}

const SIMULATED = join(REPO_ROOT, 'examples/simulated-failures.ts');

/** What the snippets leave to the runtime: functions that fail as the real ones do. */
const RUNTIME = `
import { BadRequestError } from ${JSON.stringify(SIMULATED)};
const callModel = async (): Promise<string> => {
  throw new BadRequestError(); // Anthropic 400 invalid_request_error: credit balance too low
};
const runCli = async (_signal: AbortSignal): Promise<{ text: string }> => {
  // What child_process.execFile rejects with when the CLI exits 1.
  throw Object.assign(new Error('Command failed: claude -p "fix the failing test"\\nInvalid API key · Please run /login'), {
    code: 1, killed: false, signal: null, cmd: 'claude -p "fix the failing test"', stderr: 'Invalid API key · Please run /login',
  });
};
const runTool = async (): Promise<string> => {
  throw Object.assign(new Error("ENOENT: no such file or directory, open '/workspace/notes.md'"), { code: 'ENOENT', errno: -2, syscall: 'open' });
};
const createSandbox = async (): Promise<void> => {
  throw new Error('Modal context is required: MODAL_TOKEN_ID is not set');
};
const shown = (payload: unknown) => console.log('CLIENT_ERROR ' + JSON.stringify(payload));
const sendToUser = shown;
const ui = { showError: shown };
const threadId = 'docs-thread-' + process.pid;
`;

describe('the SDK documentation, run as written', () => {
  const storage = STORAGES[0];
  let collector: RestartableCollector;
  let dir: string;

  beforeAll(async () => {
    collector = await RestartableCollector.start(storage);
    dir = mkdtempSync(join(tmpdir(), 'faultline-docs-'));
    // The snippets import '@faultline/sdk' as an app would: through node_modules.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  }, 60_000);
  afterAll(async () => {
    await collector?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `code` as a program (its own TMPDIR, so its spool is its own); returns the payloads it showed. */
  async function run(name: string, code: string): Promise<{ code: string; sessionId: string | null }[]> {
    // .mts: an ES module (top-level await), whatever package.json is or is not above it.
    const file = join(dir, `${name}.mts`);
    writeFileSync(file, `${RUNTIME}\n${code}`);
    const child = runTs(file, { FAULTLINE_ENDPOINT: collector.url, TMPDIR: dir });
    const { code: status } = await child.exited;
    expect(status, `${name} exited: ${child.stderr()}`).toBe(0);
    // Nothing was left behind: shutdownOnExit delivered it all before the process ended.
    expect(child.stderr()).not.toContain('[faultline]');
    return child.lines.filter((l) => l.startsWith('CLIENT_ERROR ')).map((l) => JSON.parse(l.slice('CLIENT_ERROR '.length)));
  }

  /** One occurrence and one status change to `error` per session, and the payload names the stored code. */
  async function expectOneOccurrenceEach(service: string, shown: { code: string; sessionId: string | null }[], sessions: number): Promise<SessionDetail[]> {
    const listed = await collector.sessions(`service=${service}&limit=50`);
    expect(listed).toHaveLength(sessions);
    expect(shown).toHaveLength(sessions);
    const details: SessionDetail[] = [];
    for (const session of listed) {
      const detail = await collector.session(session.id);
      const errors = detail.timeline.filter((i) => i.kind === 'error');
      const toError = detail.timeline.filter((i) => i.kind === 'status' && i.state === 'error');
      expect(detail.session.errorCount, `errorCount of ${session.id}`).toBe(1);
      expect(errors, `error occurrences of ${session.id}`).toHaveLength(1);
      expect(toError, `status changes to error of ${session.id}`).toHaveLength(1);
      const payload = shown.find((p) => p.sessionId === session.id);
      expect(payload, `the payload shown for ${session.id}`).toBeDefined();
      expect(payload!.code).toBe(detail.session.lastError?.code);
      expect(getCatalogEntry(payload!.code)).toBeDefined();
      details.push(detail);
    }
    return details;
  }

  it("README.md's quick start: the billing error is one occurrence, shown with its code", async () => {
    const [block] = codeBlocks('README.md').filter((b) => b.lang === 'ts' && b.code.includes("from '@faultline/sdk'"));
    expect(block.code).toContain('session.fail(err)');
    const shown = await run('readme-quick-start', block.code);
    const [detail] = await expectOneOccurrenceEach('my-agent', shown, 1);
    expect(detail.session.lastError?.code).toBe('AGT-PROVIDER-BILLING');
  }, 60_000);

  it("sdk/README.md's quick start: the CLI failure inside the tool is one occurrence", async () => {
    const [block] = codeBlocks('sdk/README.md').filter((b) => b.section === 'Quick start' && b.lang === 'ts');
    const shown = await run('sdk-quick-start', block.code);
    const [detail] = await expectOneOccurrenceEach('my-agent-runtime', shown, 1);
    expect(detail.timeline.find((i) => i.kind === 'error')?.name).toBe('execute_tool bash');
  }, 60_000);

  it("sdk/README.md's patterns: each records exactly one occurrence and one status change", async () => {
    const blocks = codeBlocks('sdk/README.md').filter((b) => b.section === 'One failure, one occurrence' && b.lang === 'ts');
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const program = [
      "import { init } from '@faultline/sdk';",
      "const faultline = init({ serviceName: 'docs-patterns', shutdownOnExit: true });",
      // Each block in its own scope, as written.
      ...blocks.map((b) => `{\n${b.code}}`),
    ].join('\n');
    const shown = await run('sdk-patterns', program);
    const details = await expectOneOccurrenceEach('docs-patterns', shown, blocks.length);
    expect(new Set(details.map((d) => d.session.lastError?.code))).toEqual(
      new Set(['AGT-PROVIDER-BILLING', 'AGT-TOOL-FAILED', 'AGT-SANDBOX-CONFIG-MISSING']),
    );
  }, 60_000);

  it("sdk/README.md's replay command sends what a runtime left while the collector was down, once", async () => {
    const [block] = codeBlocks('sdk/README.md').filter((b) => b.section === 'Exit without loss' && b.lang === 'sh');
    const command = block.code.trim();
    expect(command).toMatch(/^npx faultline-sdk replay /);
    // A runtime with the documented service name and default spool directory fails while the
    // collector is down and exits with its error in the spool.
    await collector.stop();
    const spoolDir = join(dir, '.faultline-spool', 'my-agent-runtime');
    const runtime = init({ serviceName: 'my-agent-runtime', endpoint: collector.url, spoolDir, heartbeatIntervalMs: 0, exportTimeoutMs: 300, shutdownTimeoutMs: 200 });
    const session = runtime.startSession({ id: 'docs-replay', agent: 'coder' });
    session.fail(Object.assign(new Error('Your credit balance is too low to access the Anthropic API.'), { status: 400, name: 'BadRequestError' }));
    const left = await runtime.shutdown();
    expect(left.pendingSpans).toBeGreaterThan(0);
    await collector.restart();

    const env = { TMPDIR: dir, FAULTLINE_ENDPOINT: collector.url };
    const args = command.split(/\s+/).slice(2); // after "npx faultline-sdk"
    const first = await runSdkBin(args, env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Delivered ${left.pendingBatches === 1 ? '1 batch' : `${left.pendingBatches} batches`} (${left.pendingSpans} spans)`);
    const again = await runSdkBin(args, env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing spooled for');
    const detail = await collector.session('docs-replay');
    expect(detail.session.errorCount).toBe(1);
    expect(detail.timeline.filter((i) => i.kind === 'error')).toHaveLength(1);
    expect(detail.timeline.filter((i) => i.kind === 'status' && i.state === 'error')).toHaveLength(1);
  }, 60_000);
});
