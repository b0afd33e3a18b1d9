import { test, expect, type APIRequestContext } from '../fixtures';
import { AppShell, apiAuth, signIn } from '../pages/app';

/** A workflow whose run stops at an approval for role approver, with a form. */
async function approvalWorkflow(request: APIRequestContext, name: string): Promise<string> {
  const definition = {
    nodes: [
      { id: 'start', name: 'Start', type: 'start' },
      { id: 'calc', name: 'Extract', type: 'transform', expression: '{amount: .input.amount, vendor: .input.vendor}' },
      {
        id: 'approve', name: 'Finance check', type: 'approval', title: 'Approve {{ input.vendor }}',
        instructions: 'Check {{ steps.calc.output.amount }} against the order.',
        approvers: { roles: ['approver'] }, required_approvals: 1,
        form: [{ name: 'centre', label: 'Cost centre', type: 'text', required: true }],
      },
      { id: 'end', name: 'End', type: 'end', output: '.steps.approve.output' },
    ],
    edges: [
      { from: 'start', to: 'calc' }, { from: 'calc', to: 'approve' }, { from: 'approve', to: 'end' },
    ],
  };
  const res = await request.post('/api/v1/workflows', { headers: apiAuth(), data: { name, definition } });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).workflow_id;
}

async function startRun(request: APIRequestContext, wf: string, vendor: string): Promise<string> {
  const res = await request.post(`/api/v1/workflows/${wf}/runs`, {
    headers: apiAuth(),
    data: { input: { amount: 1200, vendor } },
  });
  expect(res.status(), await res.text()).toBe(202);
  return (await res.json()).run_id;
}

async function itemOf(request: APIRequestContext, run: string): Promise<string> {
  let id = '';
  await expect.poll(async () => {
    const res = await request.get('/api/v1/approvals?status=pending&all=true', { headers: apiAuth() });
    const list = (await res.json()).approvals as any[];
    id = list.find((i) => i.run_id === run)?.id ?? '';
    return id;
  }, { message: 'the approval item appears' }).not.toBe('');
  return id;
}

test('an approver decides with the full picture; the run goes on with the edited value', async ({ browser, baseURL, request }) => {
  const name = `Invoices ${Date.now()}`;
  const wf = await approvalWorkflow(request, name);
  const run = await startRun(request, wf, 'ACME');
  const page = await signIn(browser, 'approver', baseURL!);
  await expect(page.getByTestId('approvals-badge')).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Approvals/ }).click();
  await page.getByLabel('Workflow').fill(name);
  const row = page.locator('table.approvals tbody tr');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Finance check');
  await row.getByRole('link', { name: 'Approve ACME' }).click();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Approve ACME');
  await expect(page.locator('.instructions')).toContainText('Check 1200 against the order.');
  const context = page.getByRole('region', { name: 'Context' });
  await expect(context.getByRole('table', { name: 'Run input' }).locator('tr[data-key="vendor"]')).toContainText('ACME');
  // earlier steps by name, their outputs as fields; no confidence where none was reported
  await expect(context.locator('.step-output[data-step="calc"] h4')).toContainText('Extract');
  await expect(context.locator('.step-output[data-step="calc"] tr[data-key="amount"]')).toContainText('1200');
  await expect(page.getByTestId('cum-confidence')).toHaveCount(0);
  const decision = page.getByRole('region', { name: 'Decision' });
  const proposal = decision.getByRole('group', { name: 'Proposed output' });
  await expect(proposal.getByLabel('amount')).toHaveValue('1200');
  await proposal.getByLabel('amount').fill('1100');
  // the form is checked: the cost centre is required
  await decision.getByRole('button', { name: 'Approve' }).click();
  await expect(decision.getByRole('alert')).toContainText("'Cost centre' is required");
  await decision.getByLabel('Cost centre').fill('CC-42');
  await decision.getByLabel('Comment').fill('agreed with the buyer');
  await decision.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByTestId('item-status')).toHaveText('approved');
  await expect(decision.getByTestId('decided')).toContainText('approved by user:approver');
  // the change is shown: proposed and approved
  await expect(decision.getByTestId('changes').locator('tbody tr')).toHaveText(['.amount12001100', '.centre—CC-42']);

  await page.goto(`/runs/${run}`);
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  await expect(page.getByTestId('run-output')).toContainText('"amount":1100');
  await expect(page.getByTestId('run-output')).toContainText('"centre":"CC-42"');
  await page.context().close();
});

test('two people decide at once: one wins, the other is told who did', async ({ browser, baseURL, request }) => {
  const wf = await approvalWorkflow(request, `Race ${Date.now()}`);
  const run = await startRun(request, wf, 'Race Ltd');
  const item = await itemOf(request, run);
  const [a, b] = await Promise.all([signIn(browser, 'approver', baseURL!), signIn(browser, 'approver2', baseURL!)]);
  for (const p of [a, b]) {
    await p.goto(`/approvals/${item}`);
    await new AppShell(p).waitHydrated();
    await p.getByLabel('Cost centre').fill('CC-1');
  }
  await Promise.all([
    a.getByRole('button', { name: 'Approve' }).click(),
    b.getByRole('button', { name: 'Approve' }).click(),
  ]);
  const outcomes = await Promise.all([a, b].map(async (p) => {
    await expect(p.getByTestId('item-status')).toHaveText('approved');
    return (await p.getByRole('alert').count()) > 0 ? await p.getByRole('alert').innerText() : 'won';
  }));
  expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
  expect(outcomes.find((o) => o !== 'won')).toMatch(/already approved by user:approver2? at /);
  await a.context().close();
  await b.context().close();
});

test('a viewer sees the item but cannot decide; new items appear without reload', async ({ browser, baseURL, request }) => {
  const name = `Live ${Date.now()}`;
  const wf = await approvalWorkflow(request, name);
  const first = await startRun(request, wf, 'First');
  const item = await itemOf(request, first);
  const viewer = await signIn(browser, 'viewer', baseURL!);
  await viewer.goto(`/approvals/${item}`);
  await new AppShell(viewer).waitHydrated();
  await expect(viewer.getByTestId('cannot')).toContainText('your role (viewer) may not decide approvals');
  await expect(viewer.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  await viewer.context().close();

  const approver = await signIn(browser, 'approver', baseURL!);
  await approver.goto('/approvals');
  await new AppShell(approver).waitHydrated();
  await approver.getByLabel('Workflow').fill(name);
  await expect(approver.locator('table.approvals tbody tr')).toHaveCount(1);
  const badge = approver.getByTestId('approvals-badge');
  const before = Number(await badge.innerText());
  await startRun(request, wf, 'Second');
  // no reload: the list and the badge catch up by themselves
  await expect(approver.locator('table.approvals tbody tr')).toHaveCount(2, { timeout: 15_000 });
  await expect(badge).toHaveText(String(before + 1), { timeout: 15_000 });
  await approver.context().close();
});

test('the inbox pages through every waiting item and filters them on the server', async ({ browser, baseURL, request }) => {
  const name = `Batch ${Date.now()}`;
  const wf = await approvalWorkflow(request, name);
  for (let n = 0; n < 53; n++) await startRun(request, wf, `Vendor ${n}`);
  const q = `/api/v1/approvals?all=true&limit=0&workflow=${encodeURIComponent(name)}`;
  await expect.poll(async () => (await (await request.get(q, { headers: apiAuth() })).json()).total,
    { message: 'all 53 items are waiting' }).toBe(53);

  const page = await signIn(browser, 'approver', baseURL!);
  await page.goto('/approvals');
  await new AppShell(page).waitHydrated();
  const badge = page.getByTestId('approvals-badge');
  await expect.poll(async () => Number(await badge.innerText())).toBeGreaterThanOrEqual(53);
  await page.getByLabel('Workflow').fill(name);
  const rows = page.locator('table.approvals tbody tr');
  const shown = page.getByTestId('approvals-shown');
  await expect(shown).toHaveText('1–50 of 53');
  await expect(rows).toHaveCount(50);
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(shown).toHaveText('51–53 of 53');
  await expect(rows).toHaveCount(3);
  await expect(page.getByRole('button', { name: 'Next page' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Previous page' }).click();
  await expect(shown).toHaveText('1–50 of 53');
  // a narrower filter starts again at its first page
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(shown).toHaveText('51–53 of 53');
  await page.getByRole('searchbox', { name: 'Step' }).fill('finance');
  await expect(shown).toHaveText('1–50 of 53');
  await page.getByRole('searchbox', { name: 'Step' }).fill('no such step');
  await expect(page.getByText('Nothing matches these filters')).toBeVisible();
  await page.context().close();
});

test("a cancelled run's item leaves the inbox live and cannot be decided", async ({ browser, baseURL, request }) => {
  const name = `Cancelled ${Date.now()}`;
  const wf = await approvalWorkflow(request, name);
  const run = await startRun(request, wf, 'Gone');
  const item = await itemOf(request, run);
  const approver = await signIn(browser, 'approver', baseURL!);
  await approver.goto('/approvals');
  await new AppShell(approver).waitHydrated();
  await approver.getByLabel('Workflow').fill(name);
  await expect(approver.locator('table.approvals tbody tr')).toHaveCount(1);
  const cancel = await request.post(`/api/v1/runs/${run}/cancel`, { headers: apiAuth() });
  expect(cancel.status(), await cancel.text()).toBe(204);
  // no reload: the item of the cancelled run is gone
  await expect(approver.locator('table.approvals tbody tr')).toHaveCount(0, { timeout: 15_000 });
  const decided = await request.post(`/api/v1/approvals/${item}/decision`, { headers: apiAuth(), data: { decision: 'approve' } });
  expect(decided.status()).toBe(409);
  expect(await decided.text()).toContain('the run is cancelled; its approvals can no longer be decided');
  await approver.context().close();
});

test('a person who started a run through their own API token cannot approve it in the inbox', async ({ browser, baseURL, request }) => {
  const name = `Own token ${Date.now()}`;
  const definition = {
    nodes: [
      { id: 'start', name: 'Start', type: 'start' },
      { id: 'ok', name: 'Sign-off', type: 'approval', title: 'Sign off {{ input.vendor }}', approvers: { roles: ['admin', 'approver'] } },
      { id: 'end', name: 'End', type: 'end' },
    ],
    edges: [{ from: 'start', to: 'ok' }, { from: 'ok', to: 'end' }],
  };
  const created = await request.post('/api/v1/workflows', { headers: apiAuth(), data: { name, definition } });
  expect(created.status(), await created.text()).toBe(201);
  const wf = (await created.json()).workflow_id;
  // the admin makes a token of their own in Settings and starts a run with it
  const admin = await signIn(browser, 'admin', baseURL!);
  await admin.goto('/settings');
  await new AppShell(admin).waitHydrated();
  const tokens = admin.getByRole('region', { name: 'API tokens' });
  await tokens.getByLabel('Name').fill(`script ${Date.now()}`);
  await tokens.getByLabel('Role').selectOption('editor');
  await tokens.getByRole('button', { name: 'Create token' }).click();
  const secret = (await tokens.getByTestId('new-token').textContent())!;
  const started = await request.post(`/api/v1/workflows/${wf}/runs`, {
    headers: { Authorization: `Bearer ${secret}` },
    data: { input: { vendor: 'Own' } },
  });
  expect(started.status(), await started.text()).toBe(202);
  const run = (await started.json()).run_id;
  const item = await itemOf(request, run);
  // someone else sees it to decide; the admin does not, though admins decide this step
  const other = await signIn(browser, 'approver2', baseURL!);
  await other.goto('/approvals');
  await new AppShell(other).waitHydrated();
  await other.getByLabel('Workflow').fill(name);
  await expect(other.locator('table.approvals tbody tr')).toHaveCount(1);
  await admin.goto('/approvals');
  await new AppShell(admin).waitHydrated();
  await admin.getByLabel('Workflow').fill(name);
  await expect(admin.getByText('Nothing matches these filters')).toBeVisible();
  // opening the item directly says why, and offers no decision
  await admin.goto(`/approvals/${item}`);
  await expect(admin.getByTestId('cannot')).toContainText('you started this run');
  await expect(admin.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  await admin.context().close();
  await other.context().close();
});
