import { app } from './app/app';
import { runCron } from './app/lifecycle/cron';

export { AccountDurableObject } from '../durable-objects/account';
export { WarmPool } from '../durable-objects/warm-pool';
// The service binding for other Workers (src/app/binding.ts): `entrypoint = "DbleaseBinding"`.
export { DbleaseBinding } from './app/binding';
export { DeadlineIndex } from '../durable-objects/deadline-index';
export { Directory } from '../durable-objects/directory';
export { ProviderBudget } from '../durable-objects/provider-budget';

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    await runCron(env, controller.scheduledTime, ctx);
  },
} satisfies ExportedHandler<Env>;
