/**
 * Result values as Neon's SQL over HTTP writes them (src/sql/neon-json.ts): the SQL endpoint
 * converts each value as it arrives (src/sql/statement.ts), so its answer is the wire format
 * agents already know rather than node-postgres's Date objects and Buffers.
 */
export { parsePgArray, pgTextToJson } from './neon-json';
