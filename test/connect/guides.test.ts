/**
 * The connect guides (docs/connect/) as written: each tested block — the guide's environment
 * variables, settings.json, config.toml or code — configures the official OpenTelemetry SDK or
 * exporters the way the producer itself would, and the collector shows what the guide promises.
 * Only the ports change (the guides say 4317/4318; the test collector listens on free ones). The
 * CLIs themselves cannot run here; their records come from test/support/agent-clis.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionDetail } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { CODEX_RESPONSE_FAILED, Codex, GEMINI_429, GeminiCli, cliLogger } from '../support/agent-clis.ts';
import { getJson, REPO_ROOT, runTs } from '../e2e/support.ts';

const GUIDES = path.join(REPO_ROOT, 'docs/connect');

/** The fenced block after `<!-- doc-test: name -->` in a guide. */
function block(file: string, name: string): string {
  const text = fs.readFileSync(path.join(GUIDES, file), 'utf8');
  const m = new RegExp(`<!-- doc-test: ${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
  if (!m) throw new Error(`${file} has no block marked doc-test: ${name}`);
  return m[1];
}

describe('connect guides', () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0], { grpcPort: 0 });
  });
  afterAll(async () => collector?.close());

  const ports = (text: string) =>
    text.replaceAll('127.0.0.1:4317', `127.0.0.1:${collector.grpcPort}`).replaceAll('127.0.0.1:4318', `127.0.0.1:${collector.port}`);

  /** `export NAME=value` lines of a shell block (the command that follows them is the CLI itself). */
  function envOf(shell: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const line of shell.split('\n')) {
      const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
      if (m) env[m[1]] = ports(m[2].replace(/^"(.*)"$/, '$1'));
    }
    return env;
  }

  /**
   * Runs test/connect/emitter.ts with only the guide's OTEL_* variables set. Claude Code exports
   * no metrics or traces unless told to (its exporters are opt-in); NodeSDK's defaults are otlp.
   */
  async function emit(what: string, session: string, env: Record<string, string>) {
    const clean = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('OTEL_')).map((k) => [k, '']));
    const optIn: Record<string, string> = what === 'claude-code' ? { OTEL_METRICS_EXPORTER: 'none', OTEL_TRACES_EXPORTER: 'none' } : {};
    const child = runTs(path.join(REPO_ROOT, 'test/connect/emitter.ts'), { ...clean, ...optIn, ...env, EMIT: what, EMIT_SESSION: session });
    await child.line(/^emitted$/, 60_000);
    expect((await child.exited).code).toBe(0);
  }

  const detail = (id: string) => getJson<SessionDetail>(`${collector.url}/api/sessions/${encodeURIComponent(id)}`);

  for (const name of ['claude-code-grpc', 'claude-code-http']) {
    it(`claude-code.md (${name}): the session shows the rate-limit error, metrics are answered`, async () => {
      const env = envOf(block('claude-code.md', name));
      expect(env.CLAUDE_CODE_ENABLE_TELEMETRY).toBe('1');
      const session = `guide-${name}`;
      const refused = collector.deps.pipeline.stats.metricPointsRefused;
      await emit('claude-code', session, env);
      const { session: s, timeline } = await detail(session);
      expect(s).toMatchObject({ service: 'claude-code', provider: 'anthropic', errorCount: 1 });
      expect(s.lastError?.code).toBe('AGT-PROVIDER-RATE-LIMIT');
      expect(timeline.map((i) => i.name)).toEqual(['claude_code.user_prompt', 'claude_code.api_request', 'claude_code.api_error']);
      // The gRPC block also turns metrics on: they reach the collector and are answered, not stored.
      if (env.OTEL_METRICS_EXPORTER === 'otlp') expect(collector.deps.pipeline.stats.metricPointsRefused).toBeGreaterThan(refused);
    });
  }

  /** Gemini CLI's exporters from its telemetry settings (packages/core/src/telemetry/sdk.ts). */
  function geminiExporter(settings: { telemetry: { otlpEndpoint: string; otlpProtocol: 'grpc' | 'http' } }): LogRecordExporter {
    const url = new URL(ports(settings.telemetry.otlpEndpoint));
    if (settings.telemetry.otlpProtocol === 'grpc') return new GrpcLogExporter({ url: url.origin, compression: CompressionAlgorithm.GZIP });
    url.pathname = [url.pathname.replace(/\/$/, ''), 'v1/logs'].join('/');
    return new ProtoLogExporter({ url: url.href });
  }

  for (const name of ['gemini-cli-grpc', 'gemini-cli-http']) {
    it(`gemini-cli.md (${name}): the settings deliver the api_error to its session`, async () => {
      const settings = JSON.parse(block('gemini-cli.md', name));
      expect(settings.telemetry).toMatchObject({ enabled: true, target: 'local' });
      const session = `guide-${name}`;
      const { logger, provider } = cliLogger('gemini-cli', geminiExporter(settings), { 'session.id': session });
      new GeminiCli(logger, session).apiError({ model: 'gemini-2.5-pro', error: GEMINI_429, status: 429, errorType: 'ApiError', durationMs: 640 });
      await provider.shutdown();
      expect((await detail(session)).session.lastError?.code).toBe('AGT-PROVIDER-RATE-LIMIT');
    });
  }

  /** Codex's log exporter from its `[otel] exporter` line (codex-rs/otel/src/provider.rs). */
  function codexExporter(toml: string): LogRecordExporter {
    const line = ports(/^exporter = \{ (otlp-http|otlp-grpc) = \{(.*)\} \}$/m.exec(toml)?.[0] ?? '');
    const [, kind, fields] = /^exporter = \{ (otlp-http|otlp-grpc) = \{(.*)\} \}$/.exec(line) ?? [];
    const endpoint = /endpoint = "([^"]+)"/.exec(fields ?? '')?.[1];
    if (!kind || !endpoint) throw new Error(`no exporter line in:\n${toml}`);
    if (kind === 'otlp-grpc') return new GrpcLogExporter({ url: endpoint });
    // The Rust HTTP exporter posts to the endpoint as given.
    return /protocol = "json"/.test(fields) ? new JsonLogExporter({ url: endpoint }) : new ProtoLogExporter({ url: endpoint });
  }

  for (const name of ['codex-http', 'codex-grpc']) {
    it(`codex.md (${name}): the config delivers response.failed to its conversation`, async () => {
      const conversation = crypto.randomUUID();
      const { logger, provider } = cliLogger('codex', codexExporter(block('codex.md', name)));
      new Codex(logger, conversation).sseFailed(CODEX_RESPONSE_FAILED);
      await provider.shutdown();
      expect((await detail(conversation)).session).toMatchObject({ service: 'codex_cli_rs', provider: 'openai', lastError: { code: 'AGT-PROVIDER-RATE-LIMIT' } });
    });
  }

  it('vercel-ai-sdk.md: the guide\'s NodeSDK setup and generateText call form a session from metadata.sessionId', async () => {
    const chatId = `guide-vercel-${crypto.randomUUID()}`;
    const dir = path.join(REPO_ROOT, 'test/artifacts');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `vercel-guide-${process.pid}.ts`);
    // The guide's two blocks verbatim; what they leave to the app (a model, a prompt, the chat id) around them.
    fs.writeFileSync(
      file,
      [
        block('vercel-ai-sdk.md', 'vercel-telemetry'),
        "import { APICallError, generateText } from 'ai';",
        "import { MockLanguageModelV3 } from 'ai/test';",
        `const chatId = ${JSON.stringify(chatId)};`,
        "const prompt = 'Where is my order?';",
        'let model = new MockLanguageModelV3({ provider: "openai.chat", modelId: "gpt-4o", doGenerate: async () => ({ content: [{ type: "text", text: "Tomorrow." }], finishReason: { unified: "stop", raw: "stop" }, usage: { inputTokens: { total: 5, noCache: 5, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 2, text: 2, reasoning: 0 } }, warnings: [] }) });',
        '{',
        block('vercel-ai-sdk.md', 'vercel-call'),
        '}',
        // The same call failing the way @ai-sdk/openai reports a bad key (a 401 is not retried).
        'model = new MockLanguageModelV3({ provider: "openai.chat", modelId: "gpt-4o", doGenerate: async () => { throw new APICallError({ message: "Incorrect API key provided: sk-proj-****abcd.", url: "https://api.openai.com/v1/chat/completions", requestBodyValues: {}, statusCode: 401, isRetryable: false }); } });',
        'try {',
        block('vercel-ai-sdk.md', 'vercel-call'),
        '} catch {}',
        'await otel.shutdown();',
        "console.log('emitted');",
      ].join('\n'),
    );
    try {
      const env = envOf(block('vercel-ai-sdk.md', 'vercel-env'));
      const clean = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('OTEL_')).map((k) => [k, '']));
      const child = runTs(file, { ...clean, OTEL_LOGS_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', ...env });
      await child.line(/^emitted$/, 60_000);
      const { session, timeline } = await detail(chatId);
      expect(session).toMatchObject({ service: 'support-bot', provider: 'openai', model: 'gpt-4o', errorCount: 1, lastError: { code: 'AGT-PROVIDER-AUTH' } });
      expect(timeline.filter((i) => i.name === 'ai.generateText')).toHaveLength(2);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('openinference.md: the traces endpoint variable brings a LangGraph thread in as a session', async () => {
    const thread = `guide-thread-${crypto.randomUUID()}`;
    await emit('openinference', thread, envOf(block('openinference.md', 'openinference-env')));
    expect((await detail(thread)).session).toMatchObject({ service: 'support-graph', provider: 'openai', lastError: { code: 'AGT-PROVIDER-RATE-LIMIT' } });
  });

  for (const name of ['otel-sdk-http', 'otel-sdk-grpc']) {
    it(`opentelemetry-sdk.md (${name}): spans and log records reach the session`, async () => {
      const session = `guide-${name}`;
      await emit('otel-sdk', session, envOf(block('opentelemetry-sdk.md', name)));
      const { session: s, timeline } = await detail(session);
      expect(s).toMatchObject({ service: 'my-agent', provider: 'anthropic', lastError: { code: 'AGT-PROVIDER-OVERLOADED' } });
      expect(timeline.map((i) => i.kind).sort()).toEqual(['error', 'turn']);
    });
  }
});
