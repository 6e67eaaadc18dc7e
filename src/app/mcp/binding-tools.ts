/** MCP tools for wiring a database into a Cloudflare Worker: calls into the bindings service. */
import { z } from 'zod';
import * as service from '../bindings/service';
import { bindingIdSchema, createBindingSchema } from '../schemas/bindings';
import { databaseIdSchema } from '../schemas/databases';
import { defineTool, type ToolDef } from './tool';

const bindDatabase = defineTool({
  name: 'bind_database',
  title: 'Bind a database to a Cloudflare Worker',
  description:
    'Writes the database into a Cloudflare Worker of the account owner: type worker_secret sets a secret (name, default DATABASE_URL) ' +
    'to its connection string; type hyperdrive creates a Hyperdrive config for it (and binds it in the Worker when script_name is given). ' +
    'dblease removes it when the lease ends (expiry, delete, session end). Needs databases:write and databases:credentials, ' +
    'and a Cloudflare API token the owner gave dblease.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  input: z.object({ database_id: databaseIdSchema.describe('The database id (db_…).'), binding: createBindingSchema }).strict(),
  async run({ env, principal }, { database_id, binding }) {
    return service.createBinding(env, principal, database_id, binding);
  },
});

const unbindDatabase = defineTool({
  name: 'unbind_database',
  title: 'Remove a binding from a Cloudflare Worker',
  description:
    "Takes a binding out of the Worker (the secret, or the Hyperdrive config and its binding); dblease's sweeper finishes it within seconds.",
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({ database_id: databaseIdSchema, binding_id: bindingIdSchema }).strict(),
  async run({ env, principal }, { database_id, binding_id }) {
    return service.removeBinding(env, principal, database_id, binding_id);
  },
});

export const bindingTools: ToolDef[] = [bindDatabase, unbindDatabase];
