/**
 * The signed-in pages, one file each. Every route carries `signedIn()` itself (the sub-app is
 * mounted at `/`, so a `use('*')` here would catch the API's 404s) and calls the services the
 * API calls, as the visit's owner.
 */
import { Hono } from 'hono';
import type { DashboardEnv } from '../session';
import { databasePage } from './database';
import { databasesList } from './databases';
import { eventsPage } from './events';
import { overview } from './overview';
import { policyPage } from './policy';
import { sessionsPage } from './sessions';
import { stopPage } from './stop';
import { tokensPage } from './tokens';

export const pages = new Hono<DashboardEnv>()
  .route('/', overview)
  .route('/', databasesList)
  .route('/', databasePage)
  .route('/', tokensPage)
  .route('/', sessionsPage)
  .route('/', policyPage)
  .route('/', eventsPage)
  .route('/', stopPage);
