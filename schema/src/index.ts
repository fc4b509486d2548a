export * from './attributes.ts';
export * from './log-events.ts';
export * from './states.ts';
export * from './alert-values.ts';
export * from './catalog-types.ts';
export * from './classifier-types.ts';
export * from './api-values.ts';
// Types only: the zod shapes (the `…Shape` values) are in '@faultline/schema/api', so importing
// the catalog or the classifier (the SDK does) never loads zod.
export type {
  ApiError,
  CodeDetail,
  CodeWithStats,
  ErrorClassification,
  ErrorGroup,
  ErrorOccurrence,
  LastError,
  LatestOutput,
  Overview,
  OverviewBucket,
  Page,
  CountedPage,
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
  SessionListQuery,
  StreamEvent,
  StreamEventType,
  TimeToDetect,
  TimelineItem,
  TimelineKind,
  TimeoutStat,
} from './api.ts';
export * from './catalog.ts';
export * from './customer.ts';
export * from './classifier.ts';
export * from './fingerprint.ts';
export * from './scrub.ts';
export * from './scenarios.ts';
export * from './text.ts';
export * from './exception-type.ts';
export * from './classifier-input.ts';
