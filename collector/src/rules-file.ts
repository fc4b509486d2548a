/**
 * Reads the operator rules file (`FAULTLINE_RULES`, JSON or YAML — JSON is read by the same YAML
 * parser, so both report errors by line) and validates it against the contract's shape. Anything
 * wrong stops start-up with the file, line and what to change.
 */
import fs from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import safeRegex from 'safe-regex2';
import { compileOperatorRules, operatorRulesFileSchema, type OperatorRules } from '@faultline/schema/operator-rules';
import { StartupError } from './errors.ts';

/** Rules files are hand-written; anything this large is a mistake (and would be slow to match). */
const MAX_RULES_FILE_BYTES = 1024 * 1024;

type Path = readonly PropertyKey[];

/** The line of the node at `path`, or of its nearest ancestor that exists (a missing key is reported where its object starts). */
function lineOf(doc: Document, lines: LineCounter, path: Path): number | null {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return null;
}

function describe(path: Path): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)';
}

export function loadOperatorRules(file: string): OperatorRules {
  let source: string;
  try {
    if (fs.statSync(file).size > MAX_RULES_FILE_BYTES) throw new Error(`larger than ${MAX_RULES_FILE_BYTES} bytes`);
    source = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new StartupError(`FAULTLINE_RULES: cannot read ${file}: ${(err as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const messages = doc.errors.slice(0, 5).map((e) => `  ${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
    throw new StartupError(`FAULTLINE_RULES: ${file} is not valid YAML or JSON:\n${messages.join('\n')}`);
  }
  const parsed = operatorRulesFileSchema.safeParse(doc.toJS());
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, 20)) {
      const line = lineOf(doc, lines, issue.path);
      problems.push(`  ${file}:${line ?? 1}: ${describe(issue.path)}: ${issue.message}`);
    }
  } else {
    parsed.data.rules.forEach((rule, i) => {
      const message = rule.match.message;
      // A nested repetition can take exponential time on a long message; every span would pay it.
      if (message !== undefined && !safeRegex(message)) {
        const path = ['rules', i, 'match', 'message'];
        problems.push(`  ${file}:${lineOf(doc, lines, path) ?? 1}: ${describe(path)}: may backtrack badly on long messages (nested repetition such as (a+)+); simplify it`);
      }
    });
  }
  if (problems.length > 0 || !parsed.success) {
    throw new StartupError(`FAULTLINE_RULES: ${file} has ${problems.length === 1 ? 'a problem' : 'problems'}:\n${problems.join('\n')}`);
  }
  return compileOperatorRules(parsed.data);
}
