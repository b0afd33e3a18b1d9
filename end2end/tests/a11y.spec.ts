import { test, expect, type Page } from '../fixtures';
import AxeBuilder from '@axe-core/playwright';
import { AppShell, apiAuth } from '../pages/app';

// axe-core over every page, and the designer with the inspector open: no
// critical or serious violation. A violation fails with what and where.
async function check(page: Page, what: string) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations
    .filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
  expect.soft(bad, `${what}:\n  ${bad.join("\n  ")}`).toEqual([]);
}

test('the sign-in page passes axe-core', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] }, baseURL });
  const page = await context.newPage();
  await new AppShell(page).open('/login');
  await check(page, 'sign-in');
  await context.close();
});

test('every page passes axe-core without critical or serious violations', async ({ page, request }) => {
  // axe over ten pages, some large (the API reference): more than the default 30 s
  test.setTimeout(90_000);
  const shell = new AppShell(page);
  const list = await request.get('/api/v1/workflows', { headers: apiAuth() });
  const wf = ((await list.json()).workflows as any[]).find((w) => w.name === 'Invoice approval');
  const started = await request.post(`/api/v1/workflows/${wf.id}/runs`, {
    headers: apiAuth(),
    data: { input: { vendor: 'Axe Ltd', amount: 5000 } },
  });
  const run = (await started.json()).run_id;
  let item = '';
  await expect.poll(async () => {
    const res = await request.get('/api/v1/approvals?status=pending&all=true', { headers: apiAuth() });
    item = ((await res.json()).approvals as any[]).find((i) => i.run_id === run)?.id ?? '';
    return item;
  }).not.toBe('');

  for (const [path, what] of [
    ['/workflows', 'workflows'],
    ['/runs', 'runs'],
    [`/runs/${run}`, 'a run'],
    ['/approvals', 'the inbox'],
    [`/approvals/${item}`, 'an approval item'],
    ['/audit', 'the audit trail'],
    ['/settings', 'settings'],
    ['/api', 'the API reference'],
  ]) {
    await shell.open(path);
    await check(page, what);
  }
  await shell.open(`/workflows/${wf.id}`);
  await page.locator('g[data-node="post_ledger"] .node-kind').click();
  await expect(page.getByRole('complementary', { name: 'Inspector' })).toBeVisible();
  await page.getByRole('button', { name: 'Run…' }).click();
  await check(page, 'the designer with the inspector and the run form open');
});

test('the Triggers panel with its cards and the schedule form passes axe-core', async ({ page, request }) => {
  const shell = new AppShell(page);
  const list = await request.get('/api/v1/workflows', { headers: apiAuth() });
  const wf = ((await list.json()).workflows as any[]).find((w) => w.name === 'Invoice approval');
  for (const t of [{ name: `Axe hook ${Date.now()}`, kind: 'webhook' }, { name: `Axe schedule ${Date.now()}`, kind: 'schedule', when: { cron: '0 7 1 1 *' } }]) {
    const made = await request.post(`/api/v1/workflows/${wf.id}/triggers`, { headers: apiAuth(), data: t });
    expect(made.status()).toBe(201);
  }
  await shell.open(`/workflows/${wf.id}`);
  await page.getByRole('region', { name: 'Triggers' }).getByRole('button', { name: 'Add schedule' }).click();
  await expect(page.getByTestId('preview-fires')).toBeVisible();
  await check(page, 'the Triggers panel with its cards and the schedule form');
});

test('a For each run, its items and an item run pass axe-core', async ({ page, request }) => {
  const definition = {
    nodes: [
      { id: 'start', name: 'Start', type: 'start' },
      { id: 'each', name: 'Each line', type: 'for_each', items: '.input.lines', position: { x: 260, y: 60 } },
      { id: 'line', name: 'Line', type: 'start', parent: 'each', position: { x: 290, y: 160 } },
      { id: 'price', name: 'Price', type: 'transform', expression: '{total: (.item * 10)}', parent: 'each', position: { x: 500, y: 160 } },
      { id: 'priced', name: 'Priced', type: 'end', output: '.steps.price.output', parent: 'each', position: { x: 710, y: 160 } },
      { id: 'end', name: 'End', type: 'end', output: '.steps.each.output', position: { x: 1000, y: 60 } },
    ],
    edges: [
      { from: 'start', to: 'each' }, { from: 'each', to: 'end' },
      { from: 'line', to: 'price' }, { from: 'price', to: 'priced' },
    ],
  };
  const created = await request.post('/api/v1/workflows', { headers: apiAuth(), data: { name: `Axe lines ${Date.now()}`, definition } });
  expect(created.status(), await created.text()).toBe(201);
  const wf = (await created.json()).workflow_id;
  const started = await request.post(`/api/v1/workflows/${wf}/runs`, { headers: apiAuth(), data: { input: { lines: [1, 2, 3] } } });
  const run = (await started.json()).run_id;
  await expect.poll(async () => (await (await request.get(`/api/v1/runs/${run}`, { headers: apiAuth() })).json()).status).toBe('succeeded');
  const items = await (await request.get(`/api/v1/runs/${run}/steps/each/items`, { headers: apiAuth() })).json();
  const shell = new AppShell(page);
  await shell.open(`/runs/${run}`);
  await expect(page.getByTestId('items-each').locator('tr[data-item]')).toHaveCount(3);
  await check(page, 'a For each run with its items');
  await shell.open(`/runs/${items[1].run_id}`);
  await check(page, 'an item run');
  await shell.open(`/workflows/${wf}`);
  await expect(page.locator('g.frame[data-frame="each"]')).toBeVisible();
  await check(page, 'the designer with a For each frame');
});

test('an LLM step: its doubtful answer in the inbox, its run with the model call, and its inspector pass axe-core', async ({ page, request }) => {
  const list = await request.get('/api/v1/workflows', { headers: apiAuth() });
  const wf = ((await list.json()).workflows as any[]).find((w) => w.name === 'Support ticket triage');
  const started = await request.post(`/api/v1/workflows/${wf.id}/runs`, {
    headers: apiAuth(),
    data: { input: { subject: 'Charge', body: 'I want my money back for the invoice charge' } },
  });
  const run = (await started.json()).run_id;
  let item = '';
  await expect.poll(async () => {
    const res = await request.get('/api/v1/approvals?status=pending&all=true', { headers: apiAuth() });
    item = ((await res.json()).approvals as any[]).find((i) => i.run_id === run)?.id ?? '';
    return item;
  }).not.toBe('');
  const shell = new AppShell(page);
  await shell.open(`/approvals/${item}`);
  await expect(page.getByTestId('model-answer')).toBeVisible();
  await check(page, 'a low-confidence item of an LLM step');
  await shell.open(`/runs/${run}`);
  await page.locator('tr[data-step="triage"]').getByRole('button', { name: 'Details' }).click();
  await expect(page.getByTestId('model-call').first()).toBeVisible();
  await check(page, 'a run with a model call');
  await shell.open(`/workflows/${wf.id}`);
  await page.locator('g[data-node="triage"]').locator('.node-kind').click();
  await expect(page.getByTestId('llm-connection')).toBeVisible();
  await check(page, 'the designer with an LLM step in the inspector');
  // its item would wait in the admins' inbox (a gate's default reviewers)
  const cancelled = await request.post(`/api/v1/runs/${run}/cancel`, { headers: apiAuth() });
  expect(cancelled.ok(), await cancelled.text()).toBe(true);
});
