/** Every documented scenario's driver, keyed by scenario id (schema/src/scenarios.ts). */
import type { ScenarioDriver } from '../harness.ts';
import { cliDrivers } from './cli.ts';
import { providerDrivers } from './provider.ts';
import { sandboxDrivers } from './sandbox.ts';
import { sessionDrivers } from './session.ts';
import { workerDrivers } from './worker.ts';

export const DRIVERS: Readonly<Record<string, ScenarioDriver>> = {
  ...sandboxDrivers,
  ...workerDrivers,
  ...providerDrivers,
  ...sessionDrivers,
  ...cliDrivers,
};
