import { test, expect, type APIRequestContext } from '../fixtures';
import { request as newRequest } from '@playwright/test';
import { AppShell, signIn, signedPost } from '../pages/app';
import { PASSWORD, startPostgres, startServer, stepwise, type Running } from '../server';

// Two `stepwise serve` processes on one PostgreSQL database, as behind a load
// balancer: a person's browser is connected to process A while the work and
// the decisions go through process B.
const KEY = 'a1'.repeat(32);

test.describe('two processes on PostgreSQL', () => {
  let pg: { url: string; stop: () => void };
  let a: Running;
  let b: Running;
  let token = '';
  let api: APIRequestContext;
  let approverApi: APIRequestContext;

  test.beforeAll(async () => {
    pg = startPostgres();
    const env = { STEPWISE_SECRET_KEY: KEY };
    for (const role of ['approver', 'editor']) {
      stepwise(['user', 'create', '--username', role, '--role', role], pg.url, { ...env, STEPWISE_PASSWORD: PASSWORD });
    }
    token = stepwise(['token', 'create', '--name', 'e2e', '--role', 'admin'], pg.url, env);
    const approverToken = stepwise(['token', 'create', '--name', 'approver', '--role', 'approver'], pg.url, env);
    a = await startServer(undefined, { dbUrl: pg.url, env });
    b = await startServer(undefined, { dbUrl: pg.url, env });
    api = await newRequest.newContext({ baseURL: b.url, extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
    approverApi = await newRequest.newContext({ baseURL: b.url, extraHTTPHeaders: { Authorization: `Bearer ${approverToken}` } });
  });

  test.afterAll(async () => {
    await api?.dispose();
    await approverApi?.dispose();
    await a?.stop();
    await b?.stop();
    pg?.stop();
  });

  test('a page on process A sees a run started on process B move on live, and its item leave the inbox when B decides it', async ({ browser }) => {
    test.setTimeout(60_000);
    const name = `Two processes ${Date.now()}`;
    const created = await api.post('/api/v1/workflows', {
      data: {
        name,
        definition: {
          nodes: [
            { id: 'start', name: 'Start', type: 'start' },
            { id: 'wait', name: 'Wait a moment', type: 'delay', duration_ms: 3000 },
            { id: 'ok', name: 'Check it', type: 'approval', title: 'Check {{ input.what }}', approvers: { roles: ['approver'] } },
            { id: 'end', name: 'End', type: 'end' },
          ],
          edges: [{ from: 'start', to: 'wait' }, { from: 'wait', to: 'ok' }, { from: 'ok', to: 'end' }],
        },
      },
    });
    expect(created.status(), await created.text()).toBe(201);
    const wf = (await created.json()).workflow_id;

    // the approver signs in on A
    const page = await signIn(browser, 'approver', a.url);
    // a run started on B, watched on A without reloading
    const started = await api.post(`/api/v1/workflows/${wf}/runs`, { data: { input: { what: 'the invoice' } } });
    expect(started.status(), await started.text()).toBe(202);
    const run = (await started.json()).run_id;
    await page.goto(`/runs/${run}`);
    await new AppShell(page).waitHydrated();
    await expect(page.locator('tr[data-step="wait"]')).toContainText('waiting');
    await expect(page.locator('tr[data-step="ok"]')).not.toContainText('waiting');
    await expect(page.locator('tr[data-step="ok"]')).toContainText('waiting', { timeout: 15_000 });

    // the inbox on A lists the item; B decides it; A's inbox drops it live
    await page.goto('/approvals');
    await new AppShell(page).waitHydrated();
    await page.getByLabel('Workflow').fill(name);
    await expect(page.locator('table.approvals tbody tr')).toHaveCount(1);
    await expect(page.locator('table.approvals tbody tr')).toContainText('Check the invoice');
    const list = await (await approverApi.get('/api/v1/approvals')).json();
    const item = list.approvals.find((i: { run_id: string }) => i.run_id === run).id;
    const decided = await approverApi.post(`/api/v1/approvals/${item}/decision`, { data: { decision: 'approve' } });
    expect(decided.status(), await decided.text()).toBe(200);
    await expect(page.locator('table.approvals tbody tr')).toHaveCount(0, { timeout: 10_000 });

    // and the run page on A shows it finished
    await page.goto(`/runs/${run}`);
    await expect(page.getByTestId('run-status')).toHaveText('succeeded', { timeout: 15_000 });
    await page.context().close();
  });

  test('listening for a test event on process A catches a delivery sent to process B', async ({ browser }) => {
    test.setTimeout(60_000);
    const created = await api.post('/api/v1/workflows', {
      data: {
        name: `Listening across ${Date.now()}`,
        definition: {
          nodes: [{ id: 'start', name: 'Start', type: 'start' }, { id: 'end', name: 'End', type: 'end' }],
          edges: [{ from: 'start', to: 'end' }],
        },
      },
    });
    expect(created.status(), await created.text()).toBe(201);
    const wf = (await created.json()).workflow_id;
    expect((await api.put(`/api/v1/workflows/${wf}/published`, { data: { version: 1 } })).status()).toBe(200);
    const hook = await api.post(`/api/v1/workflows/${wf}/triggers`, {
      data: { name: 'Orders', kind: 'webhook', mapping: '{order: .body.id}' },
    });
    expect(hook.status(), await hook.text()).toBe(201);
    const { secret, trigger } = await hook.json();

    // an editor on A listens
    const page = await signIn(browser, 'editor', a.url);
    await page.goto(`/workflows/${wf}`);
    await new AppShell(page).waitHydrated();
    const card = page.getByRole('region', { name: 'Triggers' }).getByRole('article', { name: 'Trigger Orders' });
    await card.getByRole('button', { name: 'Listen for a test event' }).click();
    await expect(card.getByRole('button', { name: /Listening/ })).toBeDisabled();
    await expect(async () => {
      expect((await (await api.get(`/api/v1/triggers/${trigger.id}`)).json()).listening).toBe(true);
    }).toPass({ timeout: 10_000 });

    // the sender's request reaches B: caught for A's page, no run
    const r = await signedPost(api, `${b.url}${trigger.url_path}`, secret, '{"id": "B-42"}');
    expect((await r.json()).test_event).toBe(true);
    await expect(card.getByTestId('test-input')).toContainText('"order": "B-42"');
    const runs = await api.get(`/api/v1/runs?workflow_id=${wf}`);
    expect((await runs.json()).runs).toHaveLength(0);
    await page.context().close();
  });
});
