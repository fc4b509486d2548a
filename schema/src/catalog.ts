/**
 * The error-code catalog (DESIGN §4, failure-taxonomy §3). Codes are permanent: never rename or
 * reuse one; deprecate instead. User messages are what an end user reads, so they stay in plain,
 * calm words and may name `{provider}` and `{model}`; `renderUserMessage` fills those in.
 *
 * Pure data and functions: this file also runs in the browser dashboard.
 */
import type { CatalogEntry } from './catalog-types.ts';
import { truncateText } from './text.ts';

/**
 * What the classifier returns when nothing matched and nothing shows a provider was called: a
 * neutral code, so a runtime's own bug or database error is never blamed on a provider.
 */
export const UNKNOWN_CODE = 'AGT-WORKER-UNKNOWN';
/** The unknown code for a failure demonstrably from a provider call (GenAI span, provider host, SDK type or text). */
export const PROVIDER_UNKNOWN_CODE = 'AGT-PROVIDER-UNKNOWN';
/** What the collector's watchdog records for a session that stopped making progress. */
export const STUCK_CODE = 'AGT-SESSION-STUCK';
/** What the collector records when a failure never reached the user (taxonomy §4 invariant 2). */
export const NOT_SURFACED_CODE = 'AGT-DELIVERY-ERROR-NOT-SURFACED';

export const CATALOG: readonly CatalogEntry[] = Object.freeze([
  // ── provider ─────────────────────────────────────────────────────────────────────────────
  {
    code: 'AGT-PROVIDER-AUTH',
    category: 'provider',
    title: 'AI provider rejected the credentials',
    userMessage: '{provider} did not accept our sign-in details, so this request could not run.',
    supportNote:
      'Tell the customer the AI service refused the key or login this agent uses; nothing they typed caused it, and retrying will not help until the key is fixed. Check whether the API key or OAuth token was rotated or has expired.',
    operatorHint:
      'Refresh or rotate the API key or OAuth token; for CLI agents run the login again on the host. openclaw rotates the auth profile once before surfacing.',
    retryable: 'no',
    httpStatus: 401,
    source: 'openclaw FailoverReason auth; Anthropic authentication_error; OpenAI invalid key; Claude "OAuth token has expired"',
  },
  {
    code: 'AGT-PROVIDER-AUTH-PERMANENT',
    category: 'provider',
    title: 'Account or key not allowed',
    userMessage: 'This account is not allowed to use {model}.',
    supportNote:
      'Tell the customer their account does not have access to this model, or the key was turned off; retrying will not help until that changes. Check whether the key was revoked or the account lacks access to the model.',
    operatorHint: 'The key is revoked or lacks model access; replace the key or change the model.',
    retryable: 'no',
    httpStatus: 403,
    source: 'openclaw auth_permanent; Anthropic permission_error',
  },
  {
    code: 'AGT-PROVIDER-BILLING',
    category: 'provider',
    title: 'AI provider account out of credits',
    userMessage:
      '{provider} could not run {model} because the account is out of credits or over its spending limit.',
    supportNote:
      'Tell the customer the AI account behind this agent needs more credits or a higher spending limit before it can answer again; retrying will not help until then. Check the provider billing page for the key in use.',
    operatorHint:
      'Top up or raise the spend limit, or switch to another key; do not retry automatically. The upstream status is often 400 (Anthropic) or 429 (OpenAI insufficient_quota).',
    retryable: 'no',
    httpStatus: 402,
    source: 'openclaw billing (#70124); Anthropic 400 "credit balance is too low"; OpenAI 429 insufficient_quota',
  },
  {
    code: 'AGT-PROVIDER-RATE-LIMIT',
    category: 'provider',
    title: 'AI provider rate limit',
    userMessage: '{provider} is limiting how many requests we can send right now. Please try again in a minute.',
    supportNote:
      'Tell the customer the AI service asked us to slow down; trying again in a minute usually works. If it keeps happening, check the usage and rate limits of the key.',
    operatorHint: 'Honour Retry-After; check the per-key rate limits and concurrency; rotate profiles if configured.',
    retryable: 'yes',
    httpStatus: 429,
    source: 'openclaw rate_limit; rate_limit_error; Codex/Claude usage limit; t3 usage_limit',
  },
  {
    code: 'AGT-PROVIDER-OVERLOADED',
    category: 'provider',
    title: 'AI service overloaded',
    userMessage: '{provider} is busy right now. Please try again in a moment.',
    supportNote:
      'Tell the customer the AI service is under heavy load; this usually passes within minutes, so trying again shortly is the right move. Check the provider status page.',
    operatorHint:
      'Transient upstream issue; check the provider status page; a fallback model may help. Anthropic sends 529, OpenAI 503.',
    retryable: 'yes',
    httpStatus: 503,
    source: 'openclaw overloaded; Anthropic 529 overloaded_error; OpenAI 503',
  },
  {
    code: 'AGT-PROVIDER-SERVER-ERROR',
    category: 'provider',
    title: 'AI provider internal error',
    userMessage: '{provider} had a problem on its side while answering.',
    supportNote:
      'Tell the customer the AI service had an internal problem; trying again usually works. If it keeps happening, pass the provider request id to the operators.',
    operatorHint: 'Retry with backoff; escalate to the provider if it continues, including the provider request_id.',
    retryable: 'yes',
    httpStatus: 500,
    source: 'openclaw server_error; Anthropic api_error 500',
  },
  {
    code: 'AGT-PROVIDER-TIMEOUT',
    category: 'provider',
    title: 'Connection to AI provider timed out',
    userMessage: 'The connection to {provider} timed out.',
    supportNote:
      'Tell the customer the connection to the AI service dropped or took too long; trying again usually works. Check whether many sessions were affected at the same time.',
    operatorHint:
      'Network or provider latency; check egress, proxies and DNS; compare with the turn duration and the provider status.',
    retryable: 'yes',
    httpStatus: 408,
    timeoutKind: 'provider',
    source: 'openclaw timeout; Codex "stream disconnected before completion"; ETIMEDOUT/ECONNRESET/fetch failed',
  },
  {
    code: 'AGT-PROVIDER-FORMAT',
    category: 'provider',
    title: 'Request rejected as invalid',
    userMessage: '{provider} could not accept the request we sent, so this step did not run.',
    supportNote:
      'Tell the customer this is a problem on our side, not something they did, and retrying will not help until it is fixed. Pass the session to engineering with the raw error.',
    operatorHint:
      'A bug in prompt or tool-call construction (e.g. an orphaned tool_use_id); inspect the raw error; do not retry the same payload.',
    retryable: 'no',
    httpStatus: 400,
    source: 'openclaw format; invalid_request_error (not billing)',
  },
  {
    code: 'AGT-PROVIDER-CONTEXT-OVERFLOW',
    category: 'provider',
    title: 'Conversation too long for the model',
    userMessage: 'This conversation is too long for {model}. Start a new session or shorten it.',
    supportNote:
      'Tell the customer the conversation has grown past what the model can read at once; after starting a new session or trimming large pasted content, they can try again.',
    operatorHint:
      'Trigger compaction or summarisation; check for runaway tool output such as screenshots or large files in the context.',
    retryable: 'user',
    httpStatus: 413,
    source: 'openclaw context_overflow; OpenAI context_length_exceeded; Codex "ran out of room"; Anthropic 413 request_too_large',
  },
  {
    code: 'AGT-PROVIDER-MODEL-NOT-FOUND',
    category: 'provider',
    title: 'Model not available',
    userMessage: '{provider} does not offer {model}, or it is no longer available.',
    supportNote:
      'Tell the customer the chosen model is not offered (it may have been retired or renamed), so retrying will not help; suggest picking another. Check the model id in the agent settings.',
    operatorHint: 'Fix the model id or replace the deprecated model; configure a fallback model.',
    retryable: 'no',
    httpStatus: 404,
    source: 'openclaw model_not_found; not_found_error 404',
  },
  {
    code: 'AGT-PROVIDER-SESSION-EXPIRED',
    category: 'provider',
    title: 'Previous conversation could not be resumed',
    userMessage: "The agent's previous conversation could not be picked up again, so a new one is needed.",
    supportNote:
      'Tell the customer the earlier conversation with the agent has expired on the provider side and retrying it will not help; a new session works.',
    operatorHint: 'Drop the stored resume cursor or session id and start fresh.',
    retryable: 'no',
    httpStatus: 410,
    source: 'openclaw session_expired (CLI "session not found")',
  },
  {
    code: 'AGT-PROVIDER-EMPTY-RESPONSE',
    category: 'provider',
    title: 'Empty answer from AI provider',
    userMessage: '{provider} sent back an empty answer.',
    supportNote:
      'Tell the customer the AI service returned nothing this time; one retry usually works. If it repeats, send the session to engineering.',
    operatorHint: 'Retry once; if it recurs, capture the raw stream for the provider.',
    retryable: 'once',
    httpStatus: 502,
    source: 'openclaw empty_response / no_error_details',
  },
  {
    code: 'AGT-PROVIDER-FAILOVER-EXHAUSTED',
    category: 'provider',
    title: 'Every configured model failed',
    userMessage: 'We tried every AI model set up for this agent and none of them could answer.',
    supportNote:
      'Tell the customer all the AI models this agent can use are failing or paused right now, so retrying will not help until one recovers. Check which ones are cooling down and the reason for the last failure.',
    operatorHint: 'Check which profiles are in cooldown and why; the last reason is in error.cause.',
    retryable: 'no',
    httpStatus: 503,
    source: 'openclaw fallback chain; #66314 cooldown skip',
  },
  {
    code: 'AGT-PROVIDER-UNKNOWN',
    category: 'provider',
    title: 'Unrecognised error from the AI provider',
    userMessage: 'Something went wrong while talking to {provider}.',
    supportNote:
      'Tell the customer the AI service answered with an error we do not recognise yet and we are looking into it; one retry is reasonable. Send the session to engineering with the technical details.',
    operatorHint:
      'The failure came from a model call (see the classification signal) but matched no rule: inspect the raw error and add an operator rule (FAULTLINE_RULES) or a classifier rule.',
    retryable: 'once',
    httpStatus: 500,
    source: 'openclaw unknown/unclassified/refusal; t3 runtime.error class=unknown; nothing matched but a provider call is in evidence',
  },

  // ── timeout ──────────────────────────────────────────────────────────────────────────────
  {
    code: 'AGT-TIMEOUT-SCHEDULE-TO-START',
    category: 'timeout',
    title: 'No worker picked up the job',
    userMessage: 'No agent worker picked up this job, so it could not start.',
    supportNote:
      'Tell the customer the service that runs agents was not available, so their request never started; nothing they did caused it, and retrying will not help until the workers run again. Check whether the agent workers are running.',
    operatorHint:
      'The worker is down or failed at startup: search the worker logs for "STARTUP FAILURE" and check the task-queue pollers.',
    retryable: 'no',
    httpStatus: 503,
    timeoutKind: 'schedule_to_start',
    source: 'stigmer ScheduleToStart (1 min); Temporal TimeoutFailure SCHEDULE_TO_START',
  },
  {
    code: 'AGT-TIMEOUT-HEARTBEAT',
    category: 'timeout',
    title: 'Worker stopped responding',
    userMessage: 'The agent worker stopped responding partway through, so the run was stopped.',
    supportNote:
      'Tell the customer the machine running their agent stopped partway through; retrying will not help until the worker is healthy, and starting over blindly could repeat actions. Check the last progress the worker reported.',
    operatorHint:
      'Likely a crash or out-of-memory kill; read the last heartbeat details (events processed, phase) and the worker logs.',
    retryable: 'no',
    httpStatus: 504,
    timeoutKind: 'heartbeat',
    source: 'stigmer Heartbeat (30 s); Temporal TimeoutFailure HEARTBEAT',
  },
  {
    code: 'AGT-TIMEOUT-START-TO-CLOSE',
    category: 'timeout',
    title: 'Run exceeded its time limit',
    userMessage: 'The agent run took longer than the allowed time and was stopped.',
    supportNote:
      'Tell the customer the task ran longer than allowed; retrying the same task will not help, but splitting it into smaller steps usually does. Check whether a tool hung.',
    operatorHint:
      'Raise the limit or split the task; check for a hung tool. For SCHEDULE_TO_CLOSE, retries used up the budget (see attempt and last failure).',
    retryable: 'no',
    httpStatus: 504,
    timeoutKind: 'start_to_close',
    source: 'stigmer StartToClose (10 min); Temporal START_TO_CLOSE and SCHEDULE_TO_CLOSE',
  },
  {
    code: 'AGT-TIMEOUT-TURN-IDLE',
    category: 'timeout',
    title: 'AI output stalled',
    userMessage: 'The AI stopped sending its answer partway through.',
    supportNote:
      'Tell the customer the answer stalled partway; trying once more usually works. If it keeps happening, compare with the provider status page.',
    operatorHint: 'The provider stream stalled; compare stalledForMs with the provider status.',
    retryable: 'once',
    httpStatus: 504,
    timeoutKind: 'turn_idle',
    source: 'openclaw [llm-idle-timeout] same-model retry; t3 session.health stalled',
  },
  {
    code: 'AGT-TIMEOUT-CLI-EXEC',
    category: 'timeout',
    title: 'Coding agent timed out',
    userMessage: 'The coding agent did not finish within the time limit.',
    supportNote:
      'Tell the customer the task ran past its time limit and was stopped; they can try again with a simpler or smaller request that finishes in time. Check whether the agent was waiting on a question nobody could answer.',
    operatorHint:
      'Raise timeout_sec or simplify the prompt; check whether the CLI hung on an interactive prompt. Exit 124 is the GNU timeout convention.',
    retryable: 'user',
    httpStatus: 504,
    timeoutKind: 'cli_exec',
    source: 'seed 001 "<p> exec timed out" (300/900 s); exit 124',
  },

  // ── sandbox ──────────────────────────────────────────────────────────────────────────────
  {
    code: 'AGT-SANDBOX-CONFIG-MISSING',
    category: 'sandbox',
    title: 'Workspace environment not configured',
    userMessage: 'The workspace environment is not set up yet, so the agent cannot start.',
    supportNote:
      'Tell the customer this is a setup problem on our side and retrying will not help until it is fixed. Check that the sandbox credentials and app name are configured for this deployment.',
    operatorHint: 'Set the Modal tokenId, tokenSecret and appName for this runtime; no Modal call was made.',
    retryable: 'no',
    httpStatus: 500,
    source: 'seed 000 "Modal context is required"',
  },
  {
    code: 'AGT-SANDBOX-CREATE-FAILED',
    category: 'sandbox',
    title: 'Workspace environment could not be created',
    userMessage: 'We could not create the workspace environment for this session.',
    supportNote:
      'Tell the customer the workspace could not be prepared; trying once more usually works. Check sandbox provider access, quotas and the image build log.',
    operatorHint:
      'Check Modal auth, quotas and the image build log (e.g. an npm install in the dockerfile commands).',
    retryable: 'once',
    httpStatus: 503,
    source: 'seed 000 ExecutionEnvironment.create(); Modal AuthError, NotFoundError, InvalidError, image build',
  },
  {
    code: 'AGT-SANDBOX-TIMEOUT',
    category: 'sandbox',
    title: 'Workspace time limit reached',
    userMessage: 'The workspace environment reached its time limit and was shut down.',
    supportNote:
      'Tell the customer the workspace closed because it reached its time limit; sending the message again starts a fresh one. Check the lifetime and idle timeout settings.',
    operatorHint: 'Extend the timeout or idle timeout, or snapshot and restore long sessions.',
    retryable: 'user',
    httpStatus: 504,
    timeoutKind: 'sandbox',
    source: 'Modal SandboxTimeoutError; lifetime 5 min default, 24 h max; idle timeout',
  },
  {
    code: 'AGT-SANDBOX-TERMINATED',
    category: 'sandbox',
    title: 'Workspace stopped unexpectedly',
    userMessage: 'The workspace environment stopped unexpectedly.',
    supportNote:
      'Tell the customer the workspace stopped on its own; sending the message again creates a new one. Check the sandbox provider events around that time.',
    operatorHint: 'Correlate with Modal events; the session can lazily recreate the environment.',
    retryable: 'once',
    httpStatus: 503,
    source: 'Modal SandboxTerminatedError; seed 000 ee:terminated(unhealthy)',
  },
  {
    code: 'AGT-SANDBOX-OOM',
    category: 'sandbox',
    title: 'Workspace ran out of memory',
    userMessage: 'The workspace ran out of memory, so the work was stopped.',
    supportNote:
      'Tell the customer the task needed more memory than the workspace has; retrying the same task will not help, it will stop again. Check what the agent was running at the time.',
    operatorHint:
      'Raise the memory limit or stop the agent spawning heavy processes; retrying as-is will repeat. Exit 137 counts as OOM only when we did not request the termination.',
    retryable: 'no',
    httpStatus: null,
    source: 'exit 137 not requested by us (harbor #2955)',
  },
  {
    code: 'AGT-SANDBOX-EXEC-FAILED',
    category: 'sandbox',
    title: 'Workspace file operation failed',
    userMessage: 'A file operation in the workspace did not succeed.',
    supportNote:
      'Tell the customer a step that prepares files in the workspace did not work; trying once more usually works. Check disk space and paths in the workspace.',
    operatorHint: 'Inspect stderr of the platform command; check disk and paths.',
    retryable: 'once',
    httpStatus: 500,
    source: 'seed 000 createDirectory/writeFiles (tar) non-zero; Modal SandboxFilesystemError',
  },

  // ── worker ───────────────────────────────────────────────────────────────────────────────
  {
    code: 'AGT-WORKER-STARTUP-FAILED',
    category: 'worker',
    title: 'Agent service failed to start',
    userMessage: 'The agent service could not start, so this request could not run.',
    supportNote:
      'Tell the customer the service that runs agents is down and engineering needs to fix it; retrying will not help yet. Check the worker logs for a startup failure.',
    operatorHint: 'ImportError or a missing dependency, or no Temporal/Redis connection; fix and redeploy.',
    retryable: 'no',
    httpStatus: 503,
    source: 'stigmer STARTUP FAILURE banner, exit 1',
  },
  {
    code: 'AGT-WORKER-INIT-FAILED',
    category: 'worker',
    title: 'Agent failed before it began',
    userMessage: 'A problem on our side stopped the agent before it began. Our support team can see the details.',
    supportNote:
      'Tell the customer the run stopped before it began because of a problem on our side; retrying will not help until it is fixed. Check the agent configuration, its API key and the sandbox setup.',
    operatorHint: 'Config fetch, API key or sandbox-manager initialisation failed; see the raw error.',
    retryable: 'no',
    httpStatus: 500,
    source: 'stigmer "System error: …" top-level catch',
  },
  {
    code: 'AGT-WORKER-EXECUTION-FAILED',
    category: 'worker',
    title: 'Agent stopped with an error',
    userMessage: 'The agent ran into a problem while working and stopped.',
    supportNote:
      'Tell the customer the agent stopped partway because of a problem while working; retrying the same request will not help until engineering has looked at it. Send them the failure type and message.',
    operatorHint: 'Read the failure type and message; map the type to a more specific code where possible.',
    retryable: 'no',
    httpStatus: 500,
    source: 'stigmer "Execution failed: …"; Temporal ApplicationFailure',
  },
  {
    code: 'AGT-WORKER-UNKNOWN',
    category: 'worker',
    title: 'Unrecognised error',
    userMessage: 'Something went wrong while the agent was working.',
    supportNote:
      'Tell the customer something unexpected went wrong and we are looking into it; nothing they did caused it and one retry is reasonable. Send the session to engineering with the technical details.',
    operatorHint:
      'Nothing in the error points at a provider, sandbox, CLI or tool: read the raw error and the classification signal (a runtime bug, a database error, a network failure to a non-provider peer, or the app’s own 5xx), and add an operator rule (FAULTLINE_RULES) if it deserves its own code.',
    retryable: 'once',
    httpStatus: 500,
    source: 'neutral unknown: no rule matched and no provider call is in evidence (TypeError in the runtime, database errors, the app’s own HTTP 500)',
  },
  {
    code: 'AGT-WORKER-LOCAL-COORDINATION',
    category: 'worker',
    title: 'Session busy with another request',
    userMessage: 'This session is busy with another request. Please wait a moment.',
    supportNote:
      'Tell the customer another message in the same session is still being handled; waiting a moment and sending again works.',
    operatorHint: 'Do not fail over models; investigate concurrent turns on the same session (lock or takeover).',
    retryable: 'yes',
    httpStatus: 409,
    source: 'openclaw session write-lock timeout or attempt takeover (#83510)',
  },

  // ── session ──────────────────────────────────────────────────────────────────────────────
  {
    code: 'AGT-SESSION-TURN-START-FAILED',
    category: 'session',
    title: 'Message could not be started',
    userMessage: 'Your message could not be started. Please try sending it again.',
    supportNote:
      'Tell the customer their message was received but the agent could not begin working on it; sending it again usually works.',
    operatorHint: 'Check payload.detail; make sure the session moved to error or stopped with lastError set (t3code #1960).',
    retryable: 'user',
    httpStatus: 502,
    source: 't3code provider.turn.start.failed',
  },
  {
    code: 'AGT-SESSION-PROVIDER-MISMATCH',
    category: 'session',
    title: 'Conversation cannot switch model',
    userMessage: "This conversation can't switch to that model. Start a new conversation to use it.",
    supportNote:
      'Tell the customer a conversation stays with the model it started with, so retrying will not help; a new conversation can use the other model.',
    operatorHint: 'An expected guard; only a bug if the UI allowed the switch.',
    retryable: 'no',
    httpStatus: 409,
    source: 't3code "cannot switch models" / "bound to driver" / "unknown provider instance"',
  },
  {
    code: 'AGT-SESSION-INTERRUPT-FAILED',
    category: 'session',
    title: 'Agent could not be stopped cleanly',
    userMessage: "We couldn't stop the agent cleanly, so it was stopped by force.",
    supportNote:
      'Tell the customer the agent was stopped, though not cleanly; the last reply may be incomplete, and sending the message again is fine. Check that the session is no longer shown as working.',
    operatorHint: 'Fail safe: clear activeTurnId and stop the provider session (t3code #7376).',
    retryable: 'once',
    httpStatus: 500,
    source: 't3code provider.turn.interrupt.failed (#7368)',
  },
  {
    code: 'AGT-SESSION-STALE-REQUEST',
    category: 'session',
    title: 'Approval prompt expired',
    userMessage: 'That approval prompt has expired. Restart the turn to continue.',
    supportNote:
      'Tell the customer approvals do not survive a restart of the service, so retrying the old prompt will not help; a new message brings up a fresh prompt.',
    operatorHint: 'Expected after restarts; pending approvals are not persisted across process restarts.',
    retryable: 'no',
    httpStatus: 409,
    source: 't3code "Stale pending approval/user-input request"',
  },
  {
    code: 'AGT-SESSION-PROVIDER-EXITED',
    category: 'session',
    title: 'Agent process stopped',
    userMessage: 'The agent process stopped unexpectedly.',
    supportNote:
      'Tell the customer the agent program closed unexpectedly; trying once more usually works. Check the last lines it printed.',
    operatorHint: 'Read stderrTail; check the recoverable flag of session.exited.',
    retryable: 'once',
    httpStatus: 502,
    source: 't3code session.exited exitKind=error (+stderrTail)',
  },
  {
    code: 'AGT-SESSION-STUCK',
    category: 'session',
    title: 'Session stopped making progress',
    userMessage: 'This session stopped making progress and has been flagged for our support team.',
    userSaw: 'No error: the work looked busy (a spinner, "Creating…" or "Working for…") and then nothing more happened.',
    supportNote:
      'Tell the customer the agent stopped showing any progress and the session has been flagged; retrying will not help until the cause is found. Check the last status change and heartbeat on the timeline.',
    operatorHint: 'Look for a missing terminal status emit; read the last span and heartbeat of the session.',
    retryable: 'no',
    httpStatus: 504,
    source: 'seed 000 stuck "Creating…"; seed 002 "Working for…"; collector watchdog',
  },
  {
    code: 'AGT-SESSION-CANCELLED',
    category: 'session',
    title: 'Run stopped by the user',
    userMessage: 'You stopped this run.',
    supportNote: 'Nothing went wrong: the run was stopped on request, so there is nothing to fix and retrying will not help; they can start a new run whenever they like.',
    operatorHint: 'Informational; exclude from error rates.',
    retryable: 'no',
    httpStatus: 499,
    source: 'openclaw externalAbort; stigmer EXECUTION_CANCELLED; Temporal CancelledFailure',
  },

  // ── cli ──────────────────────────────────────────────────────────────────────────────────
  {
    code: 'AGT-CLI-NOT-FOUND',
    category: 'cli',
    title: 'Coding agent not installed',
    userMessage: 'The coding agent tool is not installed on this server.',
    supportNote:
      'Tell the customer this is a setup problem on our side and retrying will not help until it is fixed. Check that the agent CLI is installed for the service user.',
    operatorHint:
      'Install the CLI (e.g. npm i -g @anthropic-ai/claude-code) and fix PATH for the service user.',
    retryable: 'no',
    httpStatus: 500,
    source: 'seed 001 "<p> CLI not found in PATH"; ENOENT on spawn',
  },
  {
    code: 'AGT-CLI-NONZERO-EXIT',
    category: 'cli',
    title: 'Coding agent exited with an error',
    userMessage: 'The coding agent stopped with an error.',
    supportNote:
      'Tell the customer the coding agent stopped with an error; one retry is reasonable. Check the last lines the agent printed.',
    operatorHint:
      'Capture the stderr tail and classify it with the provider rules first (auth, billing, rate); Gemini exit 42/52 mean bad arguments or config and are not worth retrying.',
    retryable: 'once',
    httpStatus: 502,
    source: 'seed 001 "<p> CLI failed"; Gemini exit 1/42/52; Claude error_during_execution',
  },
  {
    code: 'AGT-CLI-AUTH-REQUIRED',
    category: 'cli',
    title: 'Coding agent not signed in',
    userMessage: "The coding agent isn't signed in on this server.",
    supportNote:
      'Tell the customer the coding agent on our server needs to be signed in again; retrying will not help until then. Check the agent login or API key on the host.',
    operatorHint:
      'Set the API key variable (GEMINI_API_KEY, COPILOT_GITHUB_TOKEN, ANTHROPIC_API_KEY, …) or log in once interactively.',
    retryable: 'no',
    httpStatus: 401,
    source: 'Gemini exit 41; Copilot "No authentication information found"; Claude "Please run /login"',
  },
  {
    code: 'AGT-CLI-TURN-LIMIT',
    category: 'cli',
    title: 'Agent ran out of steps',
    userMessage: 'The agent used up its allowed number of steps before finishing.',
    supportNote:
      'Tell the customer the task needed more steps than allowed; they can try again with smaller tasks or continue where it stopped.',
    operatorHint: 'Raise --max-turns or split the task.',
    retryable: 'user',
    httpStatus: 422,
    source: 'Gemini exit 53; Claude error_max_turns',
  },

  // ── tool ─────────────────────────────────────────────────────────────────────────────────
  {
    code: 'AGT-TOOL-FAILED',
    category: 'tool',
    title: 'A tool failed',
    userMessage: "One of the agent's tools did not work. The agent may try another way.",
    supportNote:
      'Tell the customer one tool step did not work and the agent may work around it; if it ended the run, they can try again. Only a concern if it ended the run.',
    operatorHint: 'Watch the per-tool error rate; noise unless it ends the turn.',
    retryable: 'user',
    httpStatus: 500,
    source: 'stigmer TOOL_CALL_FAILED; tool_result isError; Gemini exit 54',
  },
  {
    code: 'AGT-TOOL-DENIED',
    category: 'tool',
    title: 'Tool use not allowed',
    userMessage: "The agent wasn't allowed to use a tool it needed.",
    supportNote:
      'Tell the customer the agent needed permission for a step and it was declined or is not allowed, so retrying will not help until the permission changes. Check the approval settings or the list of allowed tools.',
    operatorHint: 'Check the approval policy or the allowed-tools list.',
    retryable: 'no',
    httpStatus: 403,
    source: 't3code tool.denied; "Permission denied and could not request permission"',
  },

  // ── delivery ─────────────────────────────────────────────────────────────────────────────
  {
    code: 'AGT-DELIVERY-ERROR-NOT-SURFACED',
    category: 'delivery',
    title: 'Failure never shown to the user',
    userMessage: 'This session ran into a problem that was not shown to you at the time.',
    userSaw: 'No error: the failure was never shown to them, so the work seemed to stop or finish without a word.',
    supportNote:
      'The session failed but the user was never shown the error. Tell them what the underlying error was and apologise for the silent failure; retrying will not bring the missing message back, so go by the underlying error for what helps.',
    operatorHint: 'A bug: some status-write path does not broadcast; find it from the trace.',
    retryable: 'no',
    httpStatus: 500,
    source: 'seed 000 issue 2; stigmer missing StreamBroker broadcast; openclaw #70124',
  },
  {
    code: 'AGT-DELIVERY-STREAM-DISCONNECTED',
    category: 'delivery',
    title: 'Connection to the session lost',
    userMessage: 'The connection to this session was lost. Reconnecting…',
    supportNote:
      'Tell the customer their connection dropped and the page reconnects on its own; the agent keeps working meanwhile. If it does not reconnect, reloading the page to try again is safe.',
    operatorHint: 'Must not set the session to error by itself; resync from the snapshot.',
    retryable: 'yes',
    httpStatus: 503,
    source: 'WebSocket/SSE drop; t3code transport_error; #313 sticky reconnect',
  },
  {
    code: 'AGT-DELIVERY-PERSIST-FAILED',
    category: 'delivery',
    title: 'Could not save the session history',
    userMessage: 'This message may not appear after you refresh the page.',
    supportNote:
      'Tell the customer the run happened but saving its history did not work, so it may be missing after a refresh; trying again once storage works is safe. Check the history and status storage.',
    operatorHint: 'Database or storage problem; the error is still in the spans.',
    retryable: 'yes',
    httpStatus: 500,
    source: 'seed 001 errors lost on refresh; stigmer "Failed to update status after system error"',
  },
] satisfies CatalogEntry[]);

const BY_CODE: ReadonlyMap<string, CatalogEntry> = new Map(CATALOG.map((entry) => [entry.code, entry]));

export function getCatalogEntry(code: string | null | undefined): CatalogEntry | undefined {
  return typeof code === 'string' ? BY_CODE.get(code) : undefined;
}

export function isCatalogCode(code: unknown): code is string {
  return typeof code === 'string' && BY_CODE.has(code);
}

/**
 * Display names for `gen_ai.provider.name` values of the OpenTelemetry GenAI conventions;
 * anything else is shown as sent.
 */
export const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  anthropic: 'Anthropic',
  openai: 'OpenAI',
  'azure.ai.openai': 'Azure OpenAI',
  'azure.ai.inference': 'Azure AI',
  'aws.bedrock': 'Amazon Bedrock',
  'gcp.gemini': 'Google Gemini',
  'gcp.vertex_ai': 'Google Vertex AI',
  'gcp.gen_ai': 'Google AI',
  cohere: 'Cohere',
  deepseek: 'DeepSeek',
  groq: 'Groq',
  mistral_ai: 'Mistral AI',
  perplexity: 'Perplexity',
  x_ai: 'xAI',
  'ibm.watsonx.ai': 'IBM watsonx',
};

const FALLBACKS = { provider: 'the AI provider', model: 'the selected model' } as const;
/** Long values are cut so a bad attribute cannot flood the user's screen. */
const MAX_VAR_LENGTH = 80;

function cleanVar(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.replace(/[{}\s]+/g, ' ').trim();
  if (trimmed === '') return null;
  return trimmed.length > MAX_VAR_LENGTH ? `${truncateText(trimmed, MAX_VAR_LENGTH - 1)}…` : trimmed;
}

/**
 * The user message of a code with `{provider}` and `{model}` filled in. A missing value reads
 * "the AI provider" / "the selected model" (capitalised at the start of a sentence), so no
 * placeholder ever reaches a user. An unknown code renders the unknown code's message.
 */
export function renderUserMessage(
  codeOrEntry: string | CatalogEntry,
  vars: { provider?: string | null; model?: string | null } = {},
): string {
  const entry =
    typeof codeOrEntry === 'string' ? (getCatalogEntry(codeOrEntry) ?? BY_CODE.get(UNKNOWN_CODE)!) : codeOrEntry;
  const provider = cleanVar(vars.provider);
  const values = {
    provider: provider === null ? null : (PROVIDER_NAMES[provider.toLowerCase()] ?? provider),
    model: cleanVar(vars.model),
  };
  return entry.userMessage.replace(/\{(provider|model)\}/g, (_match, name: 'provider' | 'model', offset: number, whole: string) => {
    const value = values[name];
    if (value !== null) return value;
    const fallback = FALLBACKS[name];
    const atSentenceStart = offset === 0 || /[.!?]\s+$/.test(whole.slice(0, offset));
    return atSentenceStart ? fallback[0].toUpperCase() + fallback.slice(1) : fallback;
  });
}
