import { z } from '@hono/zod-openapi';
import { databaseIdSchema } from './databases';
import { schemaDiffSchema } from './migrations';

/** The wire contract of schema as a resource (src/app/schema/service.ts). */

const columnSchema = z.object({ type: z.string(), nullable: z.boolean(), default: z.string().nullable() });
const tableShapeSchema = z.object({
  kind: z.string(),
  definition: z.string().nullable(),
  columns: z.record(z.string(), columnSchema),
  indexes: z.record(z.string(), z.string()),
  constraints: z.record(z.string(), z.object({ type: z.string(), definition: z.string() })),
});

export const schemaDescriptionSchema = z
  .object({
    object: z.literal('schema'),
    database_id: databaseIdSchema,
    fingerprint: z
      .string()
      .openapi({ description: "SHA-256 of the snapshot: equal schemas have equal fingerprints (a migration's apply compares it)." }),
    tables: z.record(z.string(), tableShapeSchema).openapi({ description: '`schema.table` → its shape, ordered by name; views too.' }),
    enums: z.record(z.string(), z.array(z.string())),
    ddl: z.array(z.string()).openapi({
      description:
        'Statements that rebuild this schema in an empty database, in an order PostgreSQL accepts (schemas, enums, sequences, tables, keys, indexes, foreign keys, views). Not rendered: functions, triggers, extensions, policies, grants; identity and generated columns appear as plain columns.',
    }),
  })
  .openapi('Schema');

export const schemaDiffResponseSchema = schemaDiffSchema
  .extend({ object: z.literal('schema_diff'), database_id: databaseIdSchema, against: databaseIdSchema })
  .openapi('SchemaDiffResponse', {
    description: 'What `database_id` has that `against` has not (added), and back (removed), and what differs.',
  });

export const schemaDiffQuerySchema = z.object({ against: databaseIdSchema });
