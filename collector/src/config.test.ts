import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('configuration from the environment', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 4318, host: '127.0.0.1', databaseUrl: null, retentionDays: 14, ingestKeys: [], apiToken: null });
    expect(c.stuckThresholdsMs).toEqual({ starting: 90_000, running: 60_000, retrying: 120_000 });
    expect(c.dataDir.endsWith('.faultline')).toBe(true);
  });

  it('stops start-up naming every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', FAULTLINE_RETENTION_DAYS: '0', DATABASE_URL: 'mysql://x' })).toThrow(
      /PORT: must be a number[\s\S]*DATABASE_URL: must start with postgres[\s\S]*FAULTLINE_RETENTION_DAYS: must be at least 1/,
    );
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 4318, databaseUrl: null });
  });

  it('refuses a public bind without ingest keys and API token, unless told it is fine', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(/Refusing to listen on 0\.0\.0\.0.*FAULTLINE_INGEST_KEYS and FAULTLINE_API_TOKEN/);
    expect(loadConfig({ HOST: '0.0.0.0', FAULTLINE_ALLOW_INSECURE: '1' }).host).toBe('0.0.0.0');
    const secured = loadConfig({ HOST: '0.0.0.0', FAULTLINE_INGEST_KEYS: 'k1-0123456789abcdef, k2-0123456789abcdef', FAULTLINE_API_TOKEN: 'token-0123456789abcdef' });
    expect(secured.ingestKeys).toEqual(['k1-0123456789abcdef', 'k2-0123456789abcdef']);
  });

  it('rejects short secrets', () => {
    expect(() => loadConfig({ FAULTLINE_API_TOKEN: 'short' })).toThrow(/FAULTLINE_API_TOKEN: must be at least 16 characters/);
  });

  it('serves OTLP/gRPC on 4317 by default, on any free port when PORT is 0, and not at all when off', () => {
    expect(loadConfig({}).grpcPort).toBe(4317);
    expect(loadConfig({ PORT: '0' }).grpcPort).toBe(0);
    expect(loadConfig({ PORT: '0', FAULTLINE_GRPC_PORT: '4327' }).grpcPort).toBe(4327);
    expect(loadConfig({ FAULTLINE_GRPC_PORT: 'off' }).grpcPort).toBeNull();
    expect(() => loadConfig({ FAULTLINE_GRPC_PORT: 'grpc' })).toThrow(/FAULTLINE_GRPC_PORT: must be a port number \(0 for any free port\) or "off" \(got "grpc"\)/);
    expect(() => loadConfig({ FAULTLINE_GRPC_PORT: '70000' })).toThrow(/FAULTLINE_GRPC_PORT/);
  });

  it('keeps prompt text out of storage unless FAULTLINE_STORE_PROMPTS is set', () => {
    expect(loadConfig({}).storePrompts).toBe(false);
    expect(loadConfig({ FAULTLINE_STORE_PROMPTS: '1' }).storePrompts).toBe(true);
    expect(() => loadConfig({ FAULTLINE_STORE_PROMPTS: 'maybe' })).toThrow(/FAULTLINE_STORE_PROMPTS: must be 1 or 0/);
  });
});
