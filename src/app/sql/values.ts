/**
 * Result values as Neon's SQL over HTTP writes them (src/core/neon-json.ts): the SQL endpoint
 * converts each value as it arrives (src/app/sql/statement.ts), so its answer is the wire format
 * agents already know rather than node-postgres's Date objects and Buffers.
 */
export { parsePgArray, pgTextToJson } from '../../core/neon-json';
