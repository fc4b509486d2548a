import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { StartupError } from './errors.ts';
import { loadOperatorRules } from './rules-file.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-rules-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function startupMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StartupError);
    return (err as Error).message;
  }
  throw new Error('expected a StartupError');
}

describe('FAULTLINE_RULES file', () => {
  it('loads a valid YAML file through the configuration', () => {
    const file = write('ok.yaml', 'rules:\n  - id: lock\n    match:\n      message: "lock held by"\n    code: AGT-WORKER-LOCAL-COORDINATION\n');
    const config = loadConfig({ FAULTLINE_RULES: file });
    expect(config.rules?.classify({ message: 'lock held by pid 7' })).toMatchObject({ code: 'AGT-WORKER-LOCAL-COORDINATION', rule: 'operator:lock' });
  });

  it('names the line of a value the contract refuses, in YAML', () => {
    const file = write('bad-category.yaml', [
      'codes:',
      '  - code: ACME-PORTAL-DOWN',
      '    category: billing',
      '    title: Portal down',
      '    userMessage: The portal is down.',
      'rules:',
      '  - id: portal',
      '    match: { service: checkout }',
      '    code: ACME-PORTAL-DOWN',
      '',
    ].join('\n'));
    expect(startupMessage(() => loadOperatorRules(file))).toContain(`${file}:3: codes[0].category: must be one of provider, timeout, sandbox, worker, session, cli, tool, delivery`);
  });

  it('names the line of a JSON syntax error', () => {
    const file = write('broken.json', '{\n  "rules": [\n    { "id": "a", "match": { "service": "x" }, "code": "AGT-TOOL-FAILED" },,\n  ]\n}\n');
    const message = startupMessage(() => loadOperatorRules(file));
    expect(message).toMatch(new RegExp(`is not valid YAML or JSON:\\n  ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: `));
  });

  it('reports a missing key at the line of the object that lacks it', () => {
    const file = write('missing.json', JSON.stringify({ rules: [{ id: 'a', code: 'AGT-TOOL-FAILED' }] }, null, 2));
    expect(startupMessage(() => loadOperatorRules(file))).toContain(`${file}:3: rules[0].match:`);
  });

  it('refuses a message pattern that can backtrack badly, naming its line', () => {
    const file = write('redos.yaml', 'rules:\n  - id: slow\n    match:\n      message: "(a+)+$"\n    code: AGT-TOOL-FAILED\n');
    expect(startupMessage(() => loadOperatorRules(file))).toContain(`${file}:4: rules[0].match.message: may backtrack badly on long messages`);
  });

  it('says so when the file cannot be read', () => {
    expect(startupMessage(() => loadConfig({ FAULTLINE_RULES: path.join(dir, 'nope.yaml') }))).toMatch(/^FAULTLINE_RULES: cannot read .*nope\.yaml: ENOENT/);
  });
});
