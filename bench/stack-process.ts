/**
 * The local stack in a process of its own, for the breakdown benchmark (bench/breakdown.ts), so
 * its CPU and memory are read apart from the benchmark's client and from workerd. Forked with
 * an IPC channel: it sends its addresses once the stack is up, and stops the stack (removing its
 * data folder) when told to, or when the channel closes.
 */
import { startThrowawayStack } from '../test/support/throwaway-stack';

export interface StackMessage {
  apiUrl: string;
  apiKey: string;
  proxy: string;
}

const stack = await startThrowawayStack({}, 'dblease-bench-breakdown-');
let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= stack.dispose().finally(() => process.exit(0));
  return stopping;
};
process.on('message', (m) => void (m === 'stop' && stop()));
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
process.send!({
  apiUrl: stack.urls.api,
  apiKey: stack.config.apiKey,
  proxy: `${stack.config.host}:${stack.config.proxyPort}`,
} satisfies StackMessage);
