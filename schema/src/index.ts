export * from './attributes.ts';
export * from './states.ts';
export * from './catalog-types.ts';
export * from './classifier-types.ts';
export type * from './api.ts';
