// Types for the drizzle-kit generated bundle next to this file (drizzle-kit writes plain JS and
// does not touch this declaration, so it survives `npm run db:generate`).
declare const bundle: {
  journal: { entries: { idx: number; when: number; tag: string; breakpoints: boolean }[] };
  migrations: Record<string, string>;
};
export default bundle;
