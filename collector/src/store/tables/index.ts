export { spans } from './spans.ts';
export { sessions } from './sessions.ts';
export { errors } from './errors.ts';
export { errorGroups } from './error-groups.ts';
export { scenarioRuns } from './scenario-runs.ts';
