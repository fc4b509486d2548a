import { timestamp } from 'drizzle-orm/pg-core';

/** Timestamps are stored with time zone at microsecond precision; spans carry nanoseconds we do not need. */
export const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 6 });
