import { test, expect } from '../fixtures';
import type { APIRequestContext } from '@playwright/test';
import { AppShell, apiAuth } from '../pages/app';

/** A workflow that doubles `input.n`, made through the API, and one of its
 * runs with `n`, ended: their ids. */
async function doublingRun(request: APIRequestContext, name: string, n: number) {
  const headers = apiAuth();
  const created = await request.post('/api/v1/workflows', {
    headers,
    data: {
      name,
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
  const wf: string = (await created.json()).workflow_id;
  const started = await request.post(`/api/v1/workflows/${wf}/runs`, { headers, data: { input: { n } } });
  const run: string = (await started.json()).run_id;
  const done = await request.get(`/api/v1/runs/${run}?wait_ms=10000`, { headers });
  expect((await done.json()).status).toBe('succeeded');
  return { wf, run };
}

// A golden set as a person uses it: save an ended run as a test case from
// its page, run the set from the workflow's page, read why a case failed
// and where the output differs, and be refused publishing under the gate.
test('save a run as a test case, write and edit one by hand, run the golden set, read a failing case, be refused publishing under the gate, and publish anyway as an admin', async ({ page, request }) => {
  test.setTimeout(60_000);
  const headers = apiAuth();
  const { wf, run } = await doublingRun(request, `Golden ${Date.now()}`, 21);

  // the run's page saves it as a test case
  await page.goto(`/runs/${run}`);
  await new AppShell(page).waitHydrated();
  const save = page.getByRole('form', { name: 'Save as test case' });
  await save.getByLabel('Test case name').fill('doubles 21');
  await save.getByRole('button', { name: 'Save as test case' }).click();
  await expect(save.getByRole('status')).toContainText("Saved as test case 'doubles 21'");

  // the workflow's page: a second case written by hand, whose expectation is wrong
  await page.goto(`/workflows/${wf}`);
  await new AppShell(page).waitHydrated();
  const panel = page.getByRole('region', { name: 'Golden set' });
  await expect(panel.locator('ul.test-cases li')).toHaveCount(1);
  await panel.getByRole('button', { name: 'Add a case' }).click();
  const editor = panel.getByRole('form', { name: 'Test case' });
  await editor.getByLabel('New test case (JSON)').fill('{"name": "wrong on purpose", "input": {"n": 1}, "expect_output": {"n": 4}}');
  await editor.getByRole('button', { name: 'Save case' }).click();
  await expect(panel.locator('ul.test-cases li')).toHaveCount(2);
  // edited: a bad case is refused saying why, a good edit is kept
  await panel.locator('ul.test-cases li', { hasText: 'wrong on purpose' }).getByRole('button', { name: 'Edit' }).click();
  await editor.getByLabel('Test case (JSON)').fill('{"name": "wrong on purpose", "input": {"n": 1}, "expect_output": {"n": 3}, "oops": 1}');
  await editor.getByRole('button', { name: 'Save case' }).click();
  await expect(panel.getByRole('alert')).toContainText('unknown field `oops`');
  await editor.getByLabel('Test case (JSON)').fill('{"name": "wrong on purpose", "input": {"n": 1}, "expect_output": {"n": 3}}');
  await editor.getByRole('button', { name: 'Save case' }).click();
  await expect(editor).toHaveCount(0);

  // the set runs and shows the report
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
  const gate = panel.getByRole('form', { name: 'Publish gate' });
  await gate.getByLabel('Publishing requires this share of cases to pass (%)').fill('100');
  await gate.getByRole('button', { name: 'Save gate' }).click();
  await expect(gate.getByRole('status')).toHaveText('Publishing now needs 100% of the cases to pass.');
  await page.getByRole('button', { name: 'Publish version 1' }).click();
  const refusal = page.getByRole('alert').filter({ hasText: 'cannot be published' });
  await expect(refusal).toContainText("version 1 cannot be published");
  await expect(refusal).toContainText("'wrong on purpose'");
  await expect(page.getByTestId('published')).not.toHaveText('Live: version 1');
  // an admin may publish anyway, and the audit trail says so
  await page.getByRole('button', { name: 'Publish anyway (admin)' }).click();
  await expect(page.getByTestId('published')).toHaveText('Live: version 1');
  const audit = await (await request.get(`/api/v1/audit?action=workflow.published`, { headers })).json();
  const event = audit.events.find((e: { entity: string }) => e.entity === `workflow:${wf}`);
  expect(JSON.stringify(event.details.golden_set)).toContain('overridden');
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

// An ended run's page still refreshes the run (its live stream, a slow
// poll): a test case name being typed there, and the answer to saving it,
// must not be thrown away by a refresh (they were, every 5 s).
test('a test case name typed on an ended run page and the answer to saving it outlast the page refreshing the run', async ({ page, request }) => {
  test.setTimeout(60_000);
  const { run } = await doublingRun(request, `Golden refresh ${Date.now()}`, 4);

  await page.goto(`/runs/${run}`);
  await new AppShell(page).waitHydrated();
  const save = page.getByRole('form', { name: 'Save as test case' });
  const field = save.getByLabel('Test case name');
  await field.fill('doubles 4');
  // the page's next refresh of the run, and a moment for it to render
  await page.waitForResponse((r) => r.url().includes('/rpc/get_run'), { timeout: 10_000 });
  await page.waitForTimeout(300);
  await expect(field).toHaveValue('doubles 4');
  await expect(field).toBeFocused();
  await save.getByRole('button', { name: 'Save as test case' }).click();
  await expect(save.getByRole('status')).toContainText("Saved as test case 'doubles 4'");
  await page.waitForResponse((r) => r.url().includes('/rpc/get_run'), { timeout: 10_000 });
  await page.waitForTimeout(300);
  await expect(save.getByRole('status')).toContainText("Saved as test case 'doubles 4'");
});
