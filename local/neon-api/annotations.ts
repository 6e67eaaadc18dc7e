import { z } from 'zod';
import { now, type BranchRec } from './model';

/**
 * Branch annotations: a map of strings a client attaches to a branch when creating it (the Neon
 * CLI sends `annotation_value`, Vercel's integration a commit ref). Neon's schema caps the map at
 * 50 entries; it documents no length limits, so these are ours: keys 1–256 characters (as a
 * branch name), values up to 1024.
 */
export const MAX_ANNOTATIONS = 50;
export const MAX_ANNOTATION_KEY = 256;
export const MAX_ANNOTATION_VALUE = 1024;

export const annotationValue = z
  .record(z.string(), z.string().max(MAX_ANNOTATION_VALUE, `must be at most ${MAX_ANNOTATION_VALUE} characters`))
  .superRefine((value, ctx) => {
    const keys = Object.keys(value);
    if (keys.length > MAX_ANNOTATIONS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_ANNOTATIONS} entries (got ${keys.length})` });
    for (const key of keys) {
      if (key.length < 1 || key.length > MAX_ANNOTATION_KEY)
        ctx.addIssue({
          code: 'custom',
          message: `keys must be 1 to ${MAX_ANNOTATION_KEY} characters (${key.length === 0 ? 'an empty key' : `a key of ${key.length}`})`,
        });
    }
  });

export type AnnotationRec = NonNullable<BranchRec['annotation']>;

/** An empty map is no annotation: the Neon CLI sends `{}` with every branch it creates. */
export function newAnnotation(value: Record<string, string> | undefined): AnnotationRec | undefined {
  if (!value || Object.keys(value).length === 0) return undefined;
  const at = now();
  return { value: { ...value }, created_at: at, updated_at: at };
}

/** Neon's `AnnotationData`. */
export function annotationView(branch: BranchRec) {
  return {
    object: { type: 'console/branch', id: branch.id },
    value: { ...(branch.annotation?.value ?? {}) },
    ...(branch.annotation ? { created_at: branch.annotation.created_at, updated_at: branch.annotation.updated_at } : {}),
  };
}

/** `GET …/branches`' `annotations`: keyed by branch id, for the branches that have one. */
export function annotationsMap(branches: BranchRec[]) {
  return Object.fromEntries(branches.filter((b) => b.annotation).map((b) => [b.id, annotationView(b)]));
}
