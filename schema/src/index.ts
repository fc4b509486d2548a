export * from './attributes.ts';
export * from './states.ts';
export * from './catalog-types.ts';
export * from './classifier-types.ts';
export type * from './api.ts';
export * from './catalog.ts';
export * from './classifier.ts';
export * from './fingerprint.ts';
export * from './scrub.ts';
