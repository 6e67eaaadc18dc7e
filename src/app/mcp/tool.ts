/**
 * What an MCP tool is here, and how its outcome reaches the agent. A tool is a wire schema plus
 * a call into the same service functions the HTTP routes use; failures are dblease errors,
 * returned as `isError` results that carry the error's type, code, message, details and
 * retry-after both as text (for the model) and as structured content (for the client).
 */
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { AccountPrincipal } from '../../core/auth/principal';
import type { WaitUntil } from '../databases/service';
import { logFailure } from '../http/errors';
import { toFailure, wireError } from '../http/error-mapping';

export interface ToolContext {
  env: Env;
  ctx: WaitUntil;
  principal: AccountPrincipal;
  requestId: string;
}

export interface ToolDef<S extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  annotations: Required<Omit<ToolAnnotations, 'title'>>;
  input: S;
  run(tool: ToolContext, args: z.infer<S>): Promise<Record<string, unknown>>;
}

export const defineTool = <S extends z.ZodObject>(def: ToolDef<S>) => def as unknown as ToolDef;

/** Annotations for tools that only read. */
export const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

export function success(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

/** The error an agent can act on; an unexpected failure is logged and reported as internal. */
export function failure(err: unknown, requestId: string): CallToolResult {
  const known = toFailure(err);
  logFailure(known, err, { at: 'mcp', request_id: requestId });
  const { status, error, retryAfter } = wireError(known);
  const body = { ...error, ...(retryAfter !== undefined ? { retry_after: retryAfter } : {}), request_id: requestId };
  const retry = retryAfter !== undefined ? ` Retry after ${Math.max(1, Math.ceil(retryAfter))} s.` : '';
  const text = `dblease error ${status} ${error.type}/${error.code}: ${error.message}.${retry}\n${JSON.stringify({ error: body })}`;
  return { isError: true, content: [{ type: 'text', text }], structuredContent: { error: body } };
}
