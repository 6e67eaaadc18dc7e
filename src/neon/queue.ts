/**
 * Per-project mutation queue. Neon runs one mutation per project at a time and answers 423 to
 * an overlapping one; within one isolate we never cause that ourselves, because each project's
 * mutations (and the wait for their operations) run one after the other on a promise chain.
 * Other isolates can still collide; the 423 retry in http.ts covers those.
 */
const tails = new Map<string, Promise<void>>();

/**
 * How long a mutation waits for the one ahead of it before going anyway. In workerd a promise
 * owned by a request that was cancelled may never settle; without this bound the whole queue
 * behind it would hang. Going anyway is safe: the worst case is a 423, which is retried.
 */
const MAX_WAIT_MS = 30_000;

export function serializeProject<T>(key: string, work: () => Promise<T>, maxWaitMs = MAX_WAIT_MS): Promise<T> {
  const ahead = tails.get(key);
  let run: Promise<T>;
  if (!ahead) {
    run = work();
  } else {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bounded = Promise.race([ahead, new Promise<void>((resolve) => (timer = setTimeout(resolve, maxWaitMs)))]);
    run = bounded.then(() => {
      if (timer !== undefined) clearTimeout(timer);
      return work();
    });
  }
  const tail = run.then(
    () => {},
    () => {},
  );
  tails.set(key, tail);
  // Forget idle projects so the map does not grow with every project this isolate ever touched.
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}

/** Projects with a mutation queued or running in this isolate (for tests and status). */
export function queuedProjects(): number {
  return tails.size;
}
