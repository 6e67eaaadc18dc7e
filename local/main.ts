import { ClusterStartError } from './postgres/cluster';
import { banner } from './banner';
import { configFromEnv } from './config';
import { startLocalStack, type LocalStack } from './stack';
import { TlsSetupError } from './tls/index';
import { XfsVolumeError } from './postgres/xfs-volume';

/** `npm run local`: the local stack alone, until SIGINT or SIGTERM. */
export async function runLocalStack(): Promise<LocalStack> {
  const stack = await startLocalStack(configFromEnv());
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    stack.stop().then(
      () => process.exit(0),
      (err) => {
        console.error(`error while stopping: ${err instanceof Error ? err.message : err}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  return stack;
}

/** Start-up failures the user can fix are one line, not a stack trace. */
export function reportStartFailure(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  console.error(
    err instanceof ClusterStartError ||
      err instanceof TlsSetupError ||
      err instanceof XfsVolumeError ||
      /already in use|must be|Worker secret/.test(message)
      ? `error: ${message}`
      : err,
  );
  process.exit(1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runLocalStack().then((stack) => console.log(banner(stack)), reportStartFailure);
}
