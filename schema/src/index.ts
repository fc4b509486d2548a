export * from './attributes.ts';
export * from './states.ts';
export * from './catalog-types.ts';
export * from './classifier-types.ts';
// Types only: the zod shapes (the `…Shape` values) are in '@faultline/schema/api', so importing
// the catalog or the classifier (the SDK does) never loads zod.
export type {
  ApiError,
  ApiErrorCode,
  CodeDetail,
  CodeWithStats,
  Cursor,
  ErrorGroup,
  ErrorOccurrence,
  GroupStatus,
  LastError,
  LatestOutput,
  Overview,
  OverviewBucket,
  Page,
  ScenarioCheckResult,
  ScenarioDescription,
  ScenarioLastRun,
  ScenarioRunResult,
  ScenarioRunStatus,
  ScenarioVariant,
  ScenarioVariantResult,
  ScenarioWithLastRun,
  Session,
  SessionDetail,
  SessionFilter,
  SessionListQuery,
  StreamEvent,
  TimeToDetect,
  TimelineItem,
  TimelineKind,
  TimeoutStat,
  WindowName,
} from './api.ts';
export * from './catalog.ts';
export * from './classifier.ts';
export * from './fingerprint.ts';
export * from './scrub.ts';
export * from './scenarios.ts';
