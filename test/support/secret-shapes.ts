/**
 * Secret shapes as telemetry carries them: each makes a fresh, well-formed (fake) secret inside
 * the text it typically arrives in, so every shape × place pair has its own secret and a leak
 * can be traced to both. Formats follow the providers' documented shapes (the same ones the
 * gitleaks rules in schema/src/secret-rules.ts encode); the context strings follow real error
 * and log lines (OpenAI "Incorrect API key provided: …", Azure connection strings, curl, psql).
 */
import { randomBytes, randomInt } from 'node:crypto';

export interface SecretSample {
  /** The text as it would arrive. */
  text: string;
  /** Substrings that must not survive scrubbing (the secret, and pieces a partial scrub would leave). */
  secrets: string[];
}

export interface SecretShape {
  name: string;
  make(): SecretSample;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const pick = (chars: string, n: number) => Array.from({ length: n }, () => chars[randomInt(chars.length)]).join('');
const alnum = (n: number) => pick(ALNUM, n);
const letters = (n: number) => pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', n);
const word = (n: number) => pick(`${ALNUM}_-`, n);
const digits = (n: number) => pick('0123456789', n);
const b64 = (bytes: number) => randomBytes(bytes).toString('base64');
const b64url = (bytes: number) => randomBytes(bytes).toString('base64url');
/** Mixed case with a digit: random enough to be told apart from ordinary words in a dump. */
const token = (n: number) => `${letters(1).toUpperCase()}${digits(1)}${alnum(n - 3)}${letters(1).toLowerCase()}`;

const one = (text: string, secret: string): SecretSample => ({ text, secrets: [secret] });

export const SECRET_SHAPES: SecretShape[] = [
  { name: 'Anthropic API key', make: () => ((k) => one(`invalid x-api-key: ${k}`, k))(`sk-ant-api03-${word(93)}AA`) },
  { name: 'OpenAI project key', make: () => ((k) => one(`Incorrect API key provided: ${k}. You can find your API key at https://platform.openai.com/account/api-keys.`, k))(`sk-proj-${word(74)}T3BlbkFJ${word(74)}`) },
  { name: 'OpenAI legacy key', make: () => ((k) => one(`OPENAI_API_KEY=${k} codex exec`, k))(`sk-${alnum(20)}T3BlbkFJ${alnum(20)}`) },
  { name: 'GitHub personal access token', make: () => ((k) => one(`remote: Invalid username or password. token ${k}`, k))(`ghp_${alnum(36)}`) },
  { name: 'GitHub fine-grained token', make: () => ((k) => one(`COPILOT_GITHUB_TOKEN is ${k}`, k))(`github_pat_${alnum(22)}_${alnum(59)}`) },
  { name: 'GitHub token in a git remote URL', make: () => ((k) => one(`fatal: could not read from https://x-access-token:${k}@github.com/acme/app.git`, k))(`ghs_${alnum(36)}`) },
  { name: 'GitLab token', make: () => ((k) => one(`GITLAB_TOKEN ${k} was revoked`, k))(`glpat-${word(20)}`) },
  { name: 'Slack bot token', make: () => ((k) => one(`slack: invalid_auth for ${k}`, k))(`xoxb-${digits(12)}-${digits(13)}-${alnum(24)}`) },
  {
    name: 'Slack webhook URL',
    make: () => {
      const path = `T${alnum(8).toUpperCase()}/B${alnum(10).toUpperCase()}/${alnum(24)}`;
      return one(`POST https://hooks.slack.com/services/${path} failed: 404 no_service`, path);
    },
  },
  { name: 'AWS access key id', make: () => ((k) => one(`The security token included in the request is invalid: ${k}`, k))(`AKIA${pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`) },
  {
    name: 'bare AWS secret access key',
    make: () => {
      let k = '';
      while (!(/[A-Z]/.test(k) && /[a-z]/.test(k) && /[0-9/+]/.test(k))) k = pick(`${ALNUM}/+`, 40);
      return one(`SignatureDoesNotMatch computing with ${k} for bucket logs`, k);
    },
  },
  {
    name: 'Azure storage connection string',
    make: () => ((k) => one(`DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey=${k};EndpointSuffix=core.windows.net`, k))(b64(64)),
  },
  {
    name: 'Azure SAS signature',
    make: () => ((k) => one(`GET https://acme.blob.core.windows.net/logs/a.txt?sv=2022-11-02&sp=r&sig=${k} 403`, k))(encodeURIComponent(b64(32))),
  },
  { name: 'Google API key', make: () => ((k) => one(`API key not valid. Please pass a valid API key. key=${k}`, k))(`AIza${word(35)}`) },
  { name: 'Hugging Face token', make: () => ((k) => one(`401 Client Error for url https://huggingface.co/api/whoami-v2 (token ${k})`, k))(`hf_${letters(34)}`) },
  { name: 'Stripe secret key', make: () => ((k) => one(`No such customer; request made with ${k}`, k))(`sk_live_${alnum(24)}`) },
  {
    name: 'JSON Web Token',
    make: () => {
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const k = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: alnum(12), iat: 1_700_000_000 + randomInt(1e6) })}.${b64url(32)}`;
      return one(`session cookie ${k} expired`, k);
    },
  },
  { name: 'short Bearer token', make: () => ((k) => one(`Authorization: Bearer ${k}`, k))(token(6)) },
  {
    name: 'Basic credential',
    make: () => ((k) => one(`curl -H "Authorization: Basic ${k}" https://api.example.com`, k))(Buffer.from(`svc:${token(12)}`).toString('base64')),
  },
  {
    name: 'Cookie header',
    make: () => {
      const a = token(32);
      const b = token(24);
      return { text: `Cookie: sessionid=${a}; csrftoken=${b}`, secrets: [a, b] };
    },
  },
  { name: 'pass= value', make: () => ((k) => one(`mongodb auth failed: user=app pass=${k}`, k))(letters(9)) },
  { name: 'short digit-less password: value', make: () => ((k) => one(`password: ${k}`, k))(letters(7)) },
  { name: 'camelCase dbPassword', make: () => ((k) => one(`config {dbHost=db.internal, dbPassword=${k}}`, k))(token(14)) },
  { name: 'camelCase clientSecret in JSON', make: () => ((k) => one(`{"clientId":"app","clientSecret":"${k}"}`, k))(token(24)) },
  { name: 'camelCase accessToken', make: () => ((k) => one(`refreshing accessToken=${k}&expires_in=3600`, k))(token(30)) },
  { name: 'kebab-case x-api-key header', make: () => ((k) => one(`request headers: x-api-key: ${k}`, k))(token(32)) },
  { name: 'SCREAMING_SNAKE env value', make: () => ((k) => one(`env: MODAL_TOKEN_SECRET=${k} MODAL_ENV=prod`, k))(token(20)) },
  { name: 'CLI --password flag', make: () => ((k) => one(`mysql -h db.internal --password ${k} app`, k))(token(12)) },
  {
    name: 'URL password containing @ and /',
    make: () => {
      const a = token(6);
      const b = token(5);
      const c = token(6);
      return { text: `connect failed: postgres://app:${a}@${b}/${c}@db.internal:5432/app`, secrets: [`${a}@${b}/${c}`, a, b, c] };
    },
  },
  {
    name: 'PEM private key',
    make: () => {
      const lines = [b64(48), b64(48), b64(48)];
      return { text: `loaded key -----BEGIN RSA PRIVATE KEY-----\n${lines.join('\n')}\n-----END RSA PRIVATE KEY----- ok`, secrets: lines };
    },
  },
  {
    name: 'truncated PEM private key',
    make: () => {
      const lines = [b64(48), b64(48)];
      return { text: `could not parse -----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}…`, secrets: lines };
    },
  },
  { name: 'npm token', make: () => ((k) => one(`npm error 401 Unauthorized - token ${k}`, k))(`npm_${alnum(36)}`) },
  { name: 'Groq API key', make: () => ((k) => one(`groq: Invalid API Key ${k}`, k))(`gsk_${alnum(52)}`) },
  { name: 'Google OAuth access token', make: () => ((k) => one(`Bearer ${k} rejected: invalid_token`, k))(`ya29.${word(60)}`) },
  { name: 'SendGrid API key', make: () => ((k) => one(`sendgrid 401 for ${k}`, k))(`SG.${word(22)}.${word(43)}`) },
];
