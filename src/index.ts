import { app } from './app';

export { AccountDurableObject } from '../durable-objects/account';
export { WarmPool } from '../durable-objects/warm-pool';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
