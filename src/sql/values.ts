/**
 * The serverless driver always asks for raw text and, by default, parses it with node-postgres's
 * parsers (Date objects, Buffers, which do not survive JSON). The SQL endpoint hands these
 * parsers to the driver instead, so its answer is the wire format agents already know.
 */
import type { CustomTypesConfig } from '@neondatabase/serverless';
import { pgTextToJson } from './neon-json';

export { parsePgArray, pgTextToJson } from './neon-json';

/** The driver's `types` option: every column through `pgTextToJson`. */
export const neonJsonTypes: CustomTypesConfig = {
  getTypeParser: (oid: number) => (text: string | null) => pgTextToJson(text, oid),
};
