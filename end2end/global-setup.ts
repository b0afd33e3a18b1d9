import { request } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PASSWORD, startServer, stepwise } from './server';

export const ADMIN_STATE = path.join(__dirname, '.auth', 'admin.json');

// One server for the suite, on a fresh database with an admin, a viewer and
// an approver (made with `stepwise user create`) and an admin API token for
// tests that set things up through the REST API. The browser starts signed
// in as the admin (storage state); tests that need someone else sign in.
export default async function globalSetup() {
  const server = await startServer((dbUrl) => {
    for (const [username, role] of [['admin', 'admin'], ['viewer', 'viewer'], ['approver', 'approver'], ['approver2', 'approver'], ['editor', 'editor']]) {
      stepwise(['user', 'create', '--username', username, '--role', role, '--display-name', `The ${role}`], dbUrl, {
        STEPWISE_PASSWORD: PASSWORD,
      });
    }
    process.env.STEPWISE_TOKEN = stepwise(['token', 'create', '--name', 'e2e', '--role', 'admin'], dbUrl);
  });
  process.env.STEPWISE_URL = server.url;

  const api = await request.newContext({ baseURL: server.url, extraHTTPHeaders: { Origin: server.url } });
  const res = await api.post('/rpc/sign_in', { form: { username: 'admin', password: PASSWORD } });
  if (!res.ok()) throw new Error(`admin sign-in failed: ${res.status()} ${await res.text()}`);
  mkdirSync(path.dirname(ADMIN_STATE), { recursive: true });
  await api.storageState({ path: ADMIN_STATE });
  await api.dispose();
  return server.stop;
}
