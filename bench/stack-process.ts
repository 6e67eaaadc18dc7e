/**
 * The local stack in a process of its own, for the breakdown benchmark (bench/breakdown.ts), so
 * its CPU and memory are read apart from the benchmark's client and from workerd. Forked with
 * an IPC channel: it sends its addresses once the stack is up, and stops the stack (removing its
 * data folder) when told to, or when the channel closes.
 */
import { Session } from 'node:inspector/promises';
import type { V8Profile } from './cpu-profile';
import { startThrowawayStack } from '../test/support/throwaway-stack';

export interface StackMessage {
  apiUrl: string;
  apiKey: string;
  proxy: string;
}

// Room for every awake pool entry the fill leaves running, and the computes the creates start.
const stack = await startThrowawayStack({ maxComputes: 400 }, 'dblease-bench-breakdown-');
let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= stack.dispose().finally(() => process.exit(0));
  return stopping;
};
/** The stack's own CPU profile over a phase the benchmark marks with 'profile-start' and 'profile-stop'. */
const inspector = new Session();
inspector.connect();
process.on('message', async (m) => {
  if (m === 'stop') return void stop();
  if (m === 'profile-start') {
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 200 });
    await inspector.post('Profiler.start');
    process.send!({ profiling: true });
  }
  if (m === 'profile-stop') {
    const { profile } = (await inspector.post('Profiler.stop')) as { profile: V8Profile };
    process.send!({ profile });
  }
});
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
process.send!({
  apiUrl: stack.urls.api,
  apiKey: stack.config.apiKey,
  proxy: `${stack.config.host}:${stack.config.proxyPort}`,
} satisfies StackMessage);
