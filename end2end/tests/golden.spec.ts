import { test, expect } from '@playwright/test';
import { AppShell, apiAuth } from '../pages/app';

// A golden set as a person uses it: save an ended run as a test case from
// its page, run the set from the workflow's page, read why a case failed
// and where the output differs, and be refused publishing under the gate.
test('save a run as a test case, run the golden set, read a failing case and be refused publishing', async ({ page, request }) => {
  test.setTimeout(60_000);
  const headers = apiAuth();
  const created = await request.post('/api/v1/workflows', {
    headers,
    data: {
      name: `Golden ${Date.now()}`,
      definition: {
        nodes: [
          { id: 'start', name: 'Start', type: 'start' },
          { id: 'double', name: 'Double', type: 'transform', expression: '{n: (.input.n * 2)}' },
          { id: 'end', name: 'End', type: 'end', output: '.steps.double.output' },
        ],
        edges: [{ from: 'start', to: 'double' }, { from: 'double', to: 'end' }],
      },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const wf = (await created.json()).workflow_id;
  const started = await request.post(`/api/v1/workflows/${wf}/runs`, { headers, data: { input: { n: 21 } } });
  const run = (await started.json()).run_id;
  const done = await request.get(`/api/v1/runs/${run}?wait_ms=10000`, { headers });
  expect((await done.json()).status).toBe('succeeded');

  // the run's page saves it as a test case
  await page.goto(`/runs/${run}`);
  await new AppShell(page).waitHydrated();
  const save = page.getByRole('form', { name: 'Save as test case' });
  await save.getByLabel('Test case name').fill('doubles 21');
  await save.getByRole('button', { name: 'Save as test case' }).click();
  await expect(save.getByRole('status')).toContainText("Saved as test case 'doubles 21'");

  // a second case whose expectation is wrong
  const wrong = await request.post(`/api/v1/workflows/${wf}/test-cases`, {
    headers,
    data: { name: 'wrong on purpose', input: { n: 1 }, expect_output: { n: 3 } },
  });
  expect(wrong.status(), await wrong.text()).toBe(201);

  // the workflow's page runs the set and shows the report
  await page.goto(`/workflows/${wf}`);
  await new AppShell(page).waitHydrated();
  const panel = page.getByRole('region', { name: 'Golden set' });
  await expect(panel.locator('ul.test-cases li')).toHaveCount(2);
  await expect(panel.locator('ul.test-cases')).toContainText(`doubles 21 · from run:${run}`);
  await panel.getByRole('button', { name: 'Run golden set' }).click();
  await expect(panel.getByTestId('golden-summary')).toContainText('1 of 2 cases passed on version 1', { timeout: 20_000 });
  const failed = panel.locator('tr[data-outcome="failed"]');
  await expect(failed).toContainText('wrong on purpose');
  await expect(failed).toContainText('the output differs in 1 place(s)');
  const diff = failed.locator('table.diff tbody tr');
  await expect(diff).toContainText('.n');
  await expect(diff).toContainText('3');
  await expect(diff).toContainText('2');
  await expect(panel.locator('tr[data-outcome="passed"]')).toContainText('doubles 21');

  // every case must pass to publish: the Publish button is refused, saying why
  const gate = await request.put(`/api/v1/workflows/${wf}/publish-gate`, { headers, data: { min_pass_pct: 100 } });
  expect(gate.status(), await gate.text()).toBe(200);
  await page.getByRole('button', { name: 'Publish version 1' }).click();
  await expect(page.getByRole('alert')).toContainText("version 1 cannot be published");
  await expect(page.getByRole('alert')).toContainText("'wrong on purpose'");
  await expect(page.getByTestId('published')).not.toHaveText('Live: version 1');
});

test('a decided item saved as a test case replays with the decision and passes', async ({ page, request }) => {
  test.setTimeout(60_000);
  const headers = apiAuth();
  const name = `Golden item ${Date.now()}`;
  const created = await request.post('/api/v1/workflows', {
    headers,
    data: {
      name,
      definition: {
        nodes: [
          { id: 'start', name: 'Start', type: 'start' },
          { id: 'check', name: 'Check', type: 'approval', title: 'Check {{ input.n }}', approvers: { roles: ['admin'] }, allow_self_approval: true },
          { id: 'end', name: 'End', type: 'end', output: '.steps.check.output' },
        ],
        edges: [{ from: 'start', to: 'check' }, { from: 'check', to: 'end' }],
      },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const wf = (await created.json()).workflow_id;
  const started = await request.post(`/api/v1/workflows/${wf}/runs`, { headers, data: { input: { n: 5 } } });
  const run = (await started.json()).run_id;
  let item = '';
  await expect(async () => {
    const list = await (await request.get(`/api/v1/approvals?all=true&workflow=${encodeURIComponent(name)}`, { headers })).json();
    item = list.approvals.find((i: { run_id: string }) => i.run_id === run).id;
  }).toPass({ timeout: 10_000 });
  const decided = await request.post(`/api/v1/approvals/${item}/decision`, {
    headers,
    data: { decision: 'approve', output: { n: 6 } },
  });
  expect(decided.status(), await decided.text()).toBe(200);

  // the decided item's page saves it as a case
  await page.goto(`/approvals/${item}`);
  await new AppShell(page).waitHydrated();
  const save = page.getByRole('form', { name: 'Save as test case' });
  await save.getByLabel('Test case name').fill('checked 5');
  await save.getByRole('button', { name: 'Save as test case' }).click();
  await expect(save.getByRole('status')).toContainText("Saved as test case 'checked 5'");

  // the set decides as the person did, and the case passes
  await page.goto(`/workflows/${wf}`);
  await new AppShell(page).waitHydrated();
  const panel = page.getByRole('region', { name: 'Golden set' });
  await expect(panel.locator('ul.test-cases')).toContainText(`checked 5 · from item:${item}`);
  await panel.getByRole('button', { name: 'Run golden set' }).click();
  await expect(panel.getByTestId('golden-summary')).toContainText('1 of 1 cases passed', { timeout: 20_000 });
  await expect(panel.getByTestId('golden-summary')).toContainText('a person would have been asked in 100 %');
});
