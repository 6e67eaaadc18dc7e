import { app } from './app';

export { AccountDurableObject } from '../durable-objects/account';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
