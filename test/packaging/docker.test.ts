/**
 * The Dockerfile and docker-compose.yml. There is no Docker engine (and no hadolint) on this
 * machine, so the Dockerfile is checked by dockerfile-utils — the validator of the Dockerfile
 * language server — plus what the image must hold: several stages, a non-root user, only built
 * output and production dependencies in the final stage, and every file it copies present in the
 * repository. With a Docker engine (`docker info` answers), the image is also built.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../collector/src/config.ts';
import { allowedHostnames } from '../../collector/src/security.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCKERFILE = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(DOCKERFILE);
// `args` is the instruction's text after its keyword, flags included (`--from=build /app/… …`).
const instructions = dockerfile.getInstructions().map((i) => ({ keyword: i.getKeyword(), args: i.getTextContent().slice(i.getInstruction().length).replace(/\\\n\s*/g, '').trim() }));
const engine = await run('docker', ['info'], { timeout: 10_000 }).then(
  () => true,
  () => false,
);

describe('Dockerfile', () => {
  it('has no problem the Dockerfile validator finds', () => {
    expect(validate(DOCKERFILE).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('builds in one stage and runs in another, as the unprivileged node user, the built program', () => {
    const stages = instructions.filter((i) => i.keyword === 'FROM');
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.args).toMatch(/^node:\d+\.\d+\.\d+-\S+ AS \w+$/);
    const final = instructions.slice(instructions.lastIndexOf(stages[stages.length - 1]));
    const users = final.filter((i) => i.keyword === 'USER');
    expect(users.at(-1)?.args).toBe('node');
    expect(final.find((i) => i.keyword === 'ENTRYPOINT')?.args).toBe('["node", "collector/dist/cli.js"]');
    expect(final.find((i) => i.keyword === 'CMD')?.args).toBe('["serve"]');
    // The final stage installs production dependencies only and copies built output, never sources.
    const install = final.find((i) => i.keyword === 'RUN' && i.args.includes('npm ci'))!;
    expect(install.args).toContain('--omit=dev');
    const fromBuild = final.filter((i) => i.keyword === 'COPY' && i.args.startsWith('--from='));
    expect(fromBuild.length).toBeGreaterThanOrEqual(5);
    // Built output, and the Postgres driver with the fix patch-package applied in the build stage (patches/).
    for (const copy of fromBuild) expect(copy.args).toMatch(/\/(dist|drizzle|node_modules\/postgres) /);
    expect(instructions.some((i) => i.keyword === 'ADD')).toBe(false);
  });

  it('copies only files that exist, and the build context leaves out node_modules and build output', () => {
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(fs.existsSync(path.join(ROOT, source)), source).toBe(true);
    }
    const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist']));
  });

  it('docker-compose runs that image next to Postgres, with no source tree mounted', () => {
    const compose = parseYaml(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { build?: string; image?: string; volumes?: string[]; command?: unknown; environment?: Record<string, string> }>;
    };
    const collector = compose.services.collector;
    expect(collector.build).toBe('.');
    expect(collector.command).toBeUndefined();
    expect((collector.volumes ?? []).filter((v) => v.startsWith('.'))).toEqual([]);
    expect(collector.environment?.DATABASE_URL).toMatch(/^postgres:\/\/.+@postgres:5432\//);
    expect(Object.keys(compose.services)).toContain('postgres');
  });

  it("starts with the compose environment, and answers other containers that call it by its service name", () => {
    const compose = parseYaml(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: { collector: { environment: Record<string, string> } } };
    // `${NAME:-default}` as compose expands it with nothing set in the shell.
    const env = Object.fromEntries(Object.entries(compose.services.collector.environment).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
    const image = Object.fromEntries(
      instructions
        .filter((i) => i.keyword === 'ENV')
        .flatMap((i) => i.args.split(/\s+/))
        .map((kv) => kv.split('=') as [string, string]),
    );
    const config = loadConfig({ ...image, ...env });
    expect(config.host).toBe('0.0.0.0');
    expect(allowedHostnames(config).has('collector')).toBe(true);
  });

  it.skipIf(!engine)('builds with the Docker engine', async () => {
    await run('docker', ['build', '-q', '-t', 'faultline:test', ROOT], { timeout: 900_000, maxBuffer: 64 << 20 });
  }, 900_000);
});
