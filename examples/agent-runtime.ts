/**
 * A small simulated agent runtime instrumented with Faultline. Four sessions:
 *   1. a turn that hits an Anthropic billing error (400 invalid_request_error, "credit balance is too low")
 *   2. a tool call that runs past its time limit (withTimeout, cli_exec)
 *   3. a worker that crashes mid-run (Temporal-style HEARTBEAT TimeoutFailure)
 *   4. a successful turn with a tool call and an answer
 *
 * Start a collector (`npm start`), then:  npx tsx examples/agent-runtime.ts
 * It sends to FAULTLINE_ENDPOINT (default http://127.0.0.1:4318). If no collector is running,
 * the spans wait in the spool and are sent the next time this runs while one is.
 */
import { init, withTimeout } from '@faultline/sdk';
import type { ClientError, Session } from '@faultline/sdk';
import { ActivityFailure, BadRequestError, TimeoutFailure, sleep } from './simulated-failures.ts';

const faultline = init({ serviceName: 'example-agent-runtime', heartbeatIntervalMs: 1_000 });

/** What the runtime would push to its UI over its own channel (WebSocket, SSE…). */
function showToUser(session: Session, payload: ClientError): void {
  console.log(`  session ${session.id} → ${payload.code}: ${payload.title}\n    "${payload.message}" (retry: ${payload.retryable}, trace ${payload.traceId})`);
}

async function billingError(): Promise<void> {
  const session = faultline.startSession({ agent: 'assistant', provider: 'anthropic', model: 'claude-sonnet-4-5', statusMessage: 'Preparing…' });
  session.status('ready');
  try {
    await session.turn('reply', async () => {
      await sleep(50);
      throw new BadRequestError(); // the provider call fails
    });
  } catch (error) {
    // The turn already moved the session to `error` and recorded the failure; show the friendly words.
    showToUser(session, faultline.toClientError(error, session));
  }
}

async function toolTimeout(): Promise<void> {
  const session = faultline.startSession({ agent: 'coder', provider: 'openai', model: 'gpt-5' });
  session.status('ready');
  try {
    await session.turn('fix the failing test', async (turn) => {
      await session.tool('run_tests', () =>
        withTimeout('cli_exec', 300, (signal) => sleep(5_000, signal), { label: 'npm test' }),
      );
      turn.output('All tests pass.');
    });
  } catch (error) {
    showToUser(session, faultline.toClientError(error, session));
  }
}

async function workerCrash(): Promise<void> {
  const session = faultline.startSession({ agent: 'researcher', statusMessage: 'Waiting for a worker…' });
  session.status('running', 'Working…');
  for (let events = 1; events <= 3; events++) {
    await sleep(100);
    session.heartbeat({ events_processed: events * 5, phase: 'tool_calls' });
  }
  const crash = new ActivityFailure('Activity task failed', {
    cause: new TimeoutFailure({ events_processed: 15, phase: 'tool_calls' }),
  });
  showToUser(session, session.fail(crash));
}

async function success(): Promise<void> {
  const session = faultline.startSession({ agent: 'assistant', provider: 'anthropic', model: 'claude-sonnet-4-5' });
  session.status('ready');
  const answer = await session.turn('reply', async (turn) => {
    const files = await session.tool('list_files', async () => {
      await sleep(30);
      return ['README.md', 'src/index.ts'];
    });
    const text = `The project has ${files.length} files.`;
    turn.output(text);
    return text;
  });
  session.end('completed');
  console.log(`  session ${session.id} → completed: "${answer}"`);
}

console.log(`Faultline example runtime → ${faultline.config.endpoint}`);
await billingError();
await toolTimeout();
await workerCrash();
await success();
await faultline.shutdown();
console.log('stats:', faultline.stats());
