/**
 * What a secret looks like: the data the scrubber (scrub.ts) runs. One definition, read by the
 * collector, the SDK and the fingerprint path alike.
 *
 * Token rules are taken from the default rule set of gitleaks, a maintained secret scanner:
 * https://github.com/gitleaks/gitleaks, file config/gitleaks.toml (commit 009e025ad410),
 * each keeping its gitleaks `id` and `keywords`. Adapted for JavaScript's backtracking engine
 * (gitleaks runs Go's linear-time RE2):
 * - a rule matches only where its keyword starts (`start`), never after a lazy `[\w.-]{0,50}?`
 *   name prefix — that prefix, rescanned from every position, is what made the old scrubber
 *   quadratic; names are the job of the name=value scanner below instead;
 * - every quantifier is bounded, except a final open one, so an attempt either fails within a
 *   few dozen characters or succeeds and consumes what it scanned;
 * - trailing context such as `(?:[\x60'"\s;]|\\[nr]|$)` and entropy thresholds are dropped:
 *   in telemetry a key next to any character, or a low-entropy test key, is still a key;
 * - `(?i:…)` groups (not in Node 20) are written as explicit character classes.
 * Rules whose ids start with `faultline-` are ours (looser shapes, providers gitleaks lacks).
 *
 * gitleaks is distributed under the MIT License:
 *   Copyright (c) 2019 Zachary Rice
 *   Permission is hereby granted, free of charge, to any person obtaining a copy of this software
 *   and associated documentation files (the "Software"), to deal in the Software without
 *   restriction, including without limitation the rights to use, copy, modify, merge, publish,
 *   distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
 *   Software is furnished to do so, subject to the following conditions:
 *   The above copyright notice and this permission notice shall be included in all copies or
 *   substantial portions of the Software.
 *   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
 *   BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
 *   NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
 *   DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 *   OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
 *
 * Pure data: no node:* imports; runs in the SDK, the collector and the browser.
 */

export interface TokenRule {
  /** gitleaks rule id, or `faultline-…` for ours. */
  id: string;
  /**
   * Lowercase literals; every match begins with one of them (at `before` characters ahead), and
   * at least three characters long: a keyword found at every other position would cost a
   * regex attempt each.
   */
  keywords: readonly string[];
  /** JavaScript regex source, matched sticky at the start of the candidate. */
  pattern: string;
  /**
   * Characters that may not come right before the secret (gitleaks' leading `\b`: no word
   * character). Together with bodies whose open quantifiers either succeed or stop at a
   * character they cannot continue over, no stretch of text is rescanned by many attempts.
   */
  start: string;
  /** The match begins this many characters before the keyword (a keyword inside the secret). */
  before?: number;
  /** Letters match in either case (gitleaks `(?i)`). */
  ignoreCase?: boolean;
}

const ALNUM = 'A-Za-z0-9';
const WORD = 'A-Za-z0-9_';

export const TOKEN_RULES: readonly TokenRule[] = [
  // AI providers first: the keys an agent runtime is most likely to print.
  { id: 'anthropic-api-key', keywords: ['sk-ant-api03'], pattern: 'sk-ant-api03-[a-zA-Z0-9_-]{93}AA', start: WORD },
  { id: 'anthropic-admin-api-key', keywords: ['sk-ant-admin01'], pattern: 'sk-ant-admin01-[a-zA-Z0-9_-]{93}AA', start: WORD },
  {
    id: 'openai-api-key',
    keywords: ['sk-'],
    pattern: 'sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{58,74}T3BlbkFJ[A-Za-z0-9_-]{58,74}|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}',
    start: WORD,
  },
  // Any other sk-… key (OpenAI, Anthropic, DeepSeek, OpenRouter …), including cut-off ones.
  { id: 'faultline-sk-key', keywords: ['sk-'], pattern: 'sk-[A-Za-z0-9_-]{16,}', start: WORD },
  { id: 'huggingface-access-token', keywords: ['hf_'], pattern: 'hf_[a-zA-Z]{34}', start: WORD },
  { id: 'huggingface-organization-api-token', keywords: ['api_org_'], pattern: 'api_org_[a-zA-Z]{34}', start: WORD },
  { id: 'perplexity-api-key', keywords: ['pplx-'], pattern: 'pplx-[a-zA-Z0-9]{48}', start: WORD },
  { id: 'faultline-groq-api-key', keywords: ['gsk_'], pattern: 'gsk_[a-zA-Z0-9]{48,56}', start: WORD },
  { id: 'faultline-xai-api-key', keywords: ['xai-'], pattern: 'xai-[a-zA-Z0-9]{70,90}', start: WORD },
  { id: 'faultline-replicate-api-token', keywords: ['r8_'], pattern: 'r8_[a-zA-Z0-9]{37}', start: WORD },
  { id: 'faultline-google-oauth-access-token', keywords: ['ya29.'], pattern: 'ya29\\.[0-9A-Za-z_-]{20,}', start: WORD },
  { id: 'gcp-api-key', keywords: ['aiza'], pattern: 'AIza[\\w-]{35}', start: WORD },
  // Cloud and source hosting.
  { id: 'aws-access-token', keywords: ['a3t', 'akia', 'asia', 'abia', 'acca'], pattern: '(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}', start: ALNUM },
  // gitleaks github-pat, -oauth, -app-token and -refresh-token in one, looser than their fixed 36
  // characters: a token cut short in a log line is still a token.
  { id: 'faultline-github-token', keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], pattern: 'gh[pousr]_[0-9a-zA-Z]{20,}', start: WORD },
  { id: 'github-fine-grained-pat', keywords: ['github_pat_'], pattern: 'github_pat_\\w{20,}', start: WORD },
  {
    id: 'gitlab-pat',
    keywords: ['glpat-', 'gldt-', 'glffct-', 'glft-', 'glimt-', 'glagent-', 'gloas-', 'glrt-', 'glsoat-', 'glcbt-', 'glptt-'],
    pattern: 'gl(?:pat|dt|ffct|ft|imt|agent|oas|rt|soat|cbt|ptt)-[0-9a-zA-Z_-]{20,}',
    start: WORD,
  },
  { id: 'gitlab-rrt', keywords: ['gr1348941'], pattern: 'GR1348941[\\w-]{20}', start: WORD },
  { id: 'gitlab-session-cookie', keywords: ['_gitlab_session='], pattern: '_gitlab_session=[0-9a-z]{32}', start: WORD },
  { id: 'azure-ad-client-secret', keywords: ['q~'], before: 4, pattern: '[a-zA-Z0-9_~.]{3}\\dQ~[a-zA-Z0-9_~.-]{31,34}', start: 'a-zA-Z0-9_~.' },
  { id: 'alibaba-access-key-id', keywords: ['ltai'], pattern: 'LTAI[a-zA-Z0-9]{20}', start: ALNUM },
  { id: 'cloudflare-origin-ca-key', keywords: ['v1.0-'], pattern: 'v1\\.0-[a-f0-9]{24}-[a-f0-9]{146}', start: WORD },
  { id: 'digitalocean-pat', keywords: ['dop_v1_', 'doo_v1_', 'dor_v1_'], pattern: 'do[opr]_v1_[a-f0-9]{64}', start: WORD },
  { id: 'databricks-api-token', keywords: ['dapi'], pattern: 'dapi[a-f0-9]{32}(?:-\\d)?', start: ALNUM },
  { id: 'dynatrace-api-token', keywords: ['dt0c01.'], pattern: 'dt0c01\\.[a-zA-Z0-9]{24}\\.[a-zA-Z0-9]{64}', start: WORD },
  { id: 'flyio-access-token', keywords: ['fo1_', 'fm1', 'fm2_'], pattern: 'fo1_[\\w-]{43}|fm1[ar]_[a-zA-Z0-9+/]{100,}={0,3}|fm2_[a-zA-Z0-9+/]{100,}={0,3}', start: WORD },
  { id: 'hashicorp-tf-api-token', keywords: ['.atlasv1.'], before: 14, pattern: '[a-zA-Z0-9]{14}\\.atlasv1\\.[a-zA-Z0-9_=-]{60,70}', start: ALNUM },
  { id: 'heroku-api-key-v2', keywords: ['hrku-aa'], pattern: 'HRKU-AA[0-9a-zA-Z_-]{58}', start: WORD },
  { id: 'openshift-user-token', keywords: ['sha256~'], pattern: 'sha256~[\\w-]{43}', start: WORD },
  { id: 'pulumi-api-token', keywords: ['pul-'], pattern: 'pul-[a-f0-9]{40}', start: WORD },
  { id: 'vault-service-token', keywords: ['hvs.', 'hvb.'], pattern: 'hv[sb]\\.[\\w-]{90,300}', start: WORD },
  { id: 'planetscale-api-token', keywords: ['pscale_tkn_', 'pscale_oauth_', 'pscale_pw_'], pattern: 'pscale_(?:tkn|oauth|pw)_[\\w=.-]{32,64}', start: WORD },
  { id: 'doppler-api-token', keywords: ['dp.pt.'], pattern: 'dp\\.pt\\.[a-zA-Z0-9]{43}', start: WORD },
  { id: 'npm-access-token', keywords: ['npm_'], pattern: 'npm_[a-zA-Z0-9]{36}', start: WORD },
  { id: 'pypi-upload-token', keywords: ['pypi-ageichlwas5vcmc'], pattern: 'pypi-AgEIcHlwaS5vcmc[\\w-]{50,}', start: WORD },
  { id: 'rubygems-api-token', keywords: ['rubygems_'], pattern: 'rubygems_[a-f0-9]{48}', start: WORD },
  { id: 'clojars-api-token', keywords: ['clojars_'], pattern: 'CLOJARS_[a-zA-Z0-9]{60}', start: WORD, ignoreCase: true },
  { id: 'artifactory-api-key', keywords: ['akcp'], pattern: 'AKCp[A-Za-z0-9]{69}', start: ALNUM },
  { id: 'artifactory-reference-token', keywords: ['cmvmd'], pattern: 'cmVmd[A-Za-z0-9]{59}', start: ALNUM },
  { id: 'grafana-api-key', keywords: ['eyjrijoi'], pattern: 'eyJrIjoi[A-Za-z0-9]{70,400}={0,3}', start: ALNUM },
  { id: 'grafana-cloud-api-token', keywords: ['glc_'], pattern: 'glc_[A-Za-z0-9+/]{32,400}={0,3}', start: WORD },
  { id: 'grafana-service-account-token', keywords: ['glsa_'], pattern: 'glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}', start: WORD },
  { id: 'sentry-user-token', keywords: ['sntryu_'], pattern: 'sntryu_[a-f0-9]{64}', start: WORD },
  { id: 'sentry-org-token', keywords: ['sntrys_eyjpyxqio'], pattern: 'sntrys_eyJpYXQiO[a-zA-Z0-9+/=_]{60,}', start: WORD },
  { id: 'postman-api-token', keywords: ['pmak-'], pattern: 'PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}', start: WORD },
  { id: 'prefect-api-token', keywords: ['pnu_'], pattern: 'pnu_[a-zA-Z0-9]{36}', start: WORD },
  { id: 'linear-api-key', keywords: ['lin_api_'], pattern: 'lin_api_[a-zA-Z0-9]{40}', start: WORD },
  { id: 'notion-api-token', keywords: ['ntn_'], pattern: 'ntn_[0-9]{11}[A-Za-z0-9]{35}', start: WORD },
  { id: 'readme-api-token', keywords: ['rdme_'], pattern: 'rdme_[a-z0-9]{70}', start: WORD },
  { id: 'infracost-api-token', keywords: ['ico-'], pattern: 'ico-[a-zA-Z0-9]{32}', start: WORD },
  { id: 'scalingo-api-token', keywords: ['tk-us-'], pattern: 'tk-us-[\\w-]{48}', start: WORD },
  { id: 'frameio-api-token', keywords: ['fio-u-'], pattern: 'fio-u-[a-zA-Z0-9_=-]{64}', start: WORD },
  { id: 'duffel-api-token', keywords: ['duffel_'], pattern: 'duffel_(?:test|live)_[a-zA-Z0-9_=-]{43}', start: WORD },
  { id: 'adobe-client-secret', keywords: ['p8e-'], pattern: 'p8e-[a-zA-Z0-9]{32}', start: WORD },
  { id: 'age-secret-key', keywords: ['age-secret-key-1'], pattern: 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}', start: WORD },
  { id: '1password-service-account-token', keywords: ['ops_eyj'], pattern: 'ops_eyJ[a-zA-Z0-9+/]{250,}={0,3}', start: WORD },
  { id: 'atlassian-api-token', keywords: ['atatt3'], pattern: 'ATATT3[A-Za-z0-9_=-]{186}', start: WORD },
  { id: 'easypost-api-token', keywords: ['ezak', 'eztk'], pattern: 'EZ[AT]K[a-zA-Z0-9]{54}', start: ALNUM },
  // Payments and messaging.
  { id: 'stripe-access-token', keywords: ['sk_test', 'sk_live', 'sk_prod', 'rk_test', 'rk_live', 'rk_prod'], pattern: '[sr]k_(?:test|live|prod)_[a-zA-Z0-9]{10,99}', start: WORD },
  { id: 'square-access-token', keywords: ['sq0atp-', 'eaaa'], pattern: '(?:EAAA|sq0atp-)[\\w-]{22,60}', start: WORD },
  { id: 'shippo-api-token', keywords: ['shippo_'], pattern: 'shippo_(?:live|test)_[a-fA-F0-9]{40}', start: WORD },
  { id: 'shopify-access-token', keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'], pattern: 'shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}', start: WORD },
  { id: 'sendgrid-api-token', keywords: ['sg.'], pattern: 'SG\\.[a-zA-Z0-9=_.-]{66}', start: WORD },
  { id: 'sendinblue-api-token', keywords: ['xkeysib-'], pattern: 'xkeysib-[a-f0-9]{64}-[a-zA-Z0-9]{16}', start: WORD },
  { id: 'facebook-page-access-token', keywords: ['eaam', 'eaac'], pattern: 'EAA[MC][a-zA-Z0-9]{100,}', start: ALNUM },
  // gitleaks' six xox? rules in one, with any length past 10 (they differ only in what follows).
  { id: 'faultline-slack-token', keywords: ['xoxb', 'xoxa', 'xoxp', 'xoxo', 'xoxs', 'xoxr', 'xoxe'], pattern: 'xox[baposre]-[A-Za-z0-9-]{10,}', start: WORD },
  { id: 'slack-config-access-token', keywords: ['xoxe.xoxb-', 'xoxe.xoxp-'], pattern: 'xoxe\\.xox[bp]-\\d-[A-Za-z0-9]{100,}', start: WORD },
  { id: 'slack-app-token', keywords: ['xapp'], pattern: 'xapp-\\d-[A-Za-z0-9]{1,32}-\\d{1,20}-[a-zA-Z0-9]{8,}', start: WORD },
  // Webhook URLs are credentials: whoever has one can post. Matched from the host on.
  { id: 'slack-webhook-url', keywords: ['hooks.slack.com/'], pattern: 'hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{20,}', start: ALNUM },
  { id: 'microsoft-teams-webhook', keywords: ['webhook.office.com/'], pattern: 'webhook\\.office\\.com/webhookb2/[A-Za-z0-9@/-]{40,}', start: ALNUM },
  { id: 'faultline-discord-webhook-url', keywords: ['discord.com/api/webhooks/'], pattern: 'discord\\.com/api/webhooks/\\d{5,30}/[A-Za-z0-9_-]{20,}', start: ALNUM },
  // JSON Web Tokens: header and payload are base64url JSON objects, so both start with "eyJ"
  // (gitleaks' keyword "ey" would stop at every "key" and "they").
  { id: 'jwt', keywords: ['eyj'], pattern: 'eyJ[a-zA-Z0-9]{10,}\\.ey[a-zA-Z0-9/\\\\_-]{10,}\\.?[a-zA-Z0-9/\\\\_-]*={0,2}', start: WORD },
];

/**
 * Name words whose value is a secret, for `name=value`, `name: value`, `"name": "value"`,
 * `--name value` and attribute keys. A name is split into words at `_`, `-`, `.` and camelCase
 * humps (`dbPassword`, `DB_PASSWORD`, `db-password` → db, password); its LAST word decides, so
 * `input_tokens`, `password_length` and `token_type` are not secrets. (gitleaks' generic-api-key
 * keywords, narrowed to last words so telemetry's many `*_tokens` counters stay readable.)
 */
export const SECRET_NAME_WORDS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'secret',
  'token',
  'credential',
  'credentials',
  'creds',
  'apikey',
  'auth',
  'authorization',
  'cookie',
  'sig',
  'signature',
];

/** `…key` is a secret only after one of these words (`api_key`, `AccountKey`, `x-api-key`) or alone. */
export const SECRET_KEY_QUALIFIERS: readonly string[] = [
  'api',
  'access',
  'secret',
  'private',
  'account',
  'client',
  'master',
  'signing',
  'encryption',
  'auth',
  'license',
  'shared',
  'app',
  'consumer',
  'subscription',
  'service',
  'admin',
  'ingest',
  'storage',
  'session',
];

/** Names whose value runs to the end of the line (header values with several parts). */
export const WHOLE_LINE_NAMES: readonly string[] = ['cookie', 'authorization'];

/** Authorization schemes: the scheme stays readable, the credential after it goes. */
export const AUTH_SCHEMES: readonly string[] = ['bearer', 'basic', 'token', 'digest', 'negotiate', 'ntlm', 'apikey'];

/** Words after "Bearer"/"Basic" in prose ("bearer token expired"): not credentials. */
export const AUTH_SCHEME_PROSE: readonly string[] = [
  'a',
  'an',
  'the',
  'of',
  'is',
  'was',
  'token',
  'tokens',
  'auth',
  'authentication',
  'authorization',
  'credential',
  'credentials',
  'realm',
  'scheme',
  'header',
  'required',
  'missing',
  'invalid',
  'expired',
  'type',
  'error',
  'plan',
  'tier',
];
