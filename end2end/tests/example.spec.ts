import { test, expect } from '../fixtures';
import { apiAuth, signIn } from '../pages/app';

// The seeded example, on this test server's own (random) port: an approver on
// a phone corrects the amount, and the ledger receives the corrected amount.
test('on a phone, an approver corrects the amount and the ledger receives the corrected amount', async ({ browser, baseURL, request }) => {
  const list = await request.get('/api/v1/workflows', { headers: apiAuth() });
  const wf = ((await list.json()).workflows as any[]).find((w) => w.name === 'Invoice approval');
  expect(wf, 'the example is seeded').toBeTruthy();
  const res = await request.post(`/api/v1/workflows/${wf.id}/runs`, {
    headers: apiAuth(),
    data: { input: { vendor: 'ACME', amount: 5300 } },
  });
  expect(res.status(), await res.text()).toBe(202);
  const run = (await res.json()).run_id;

  const page = await signIn(browser, 'approver', baseURL!);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Approvals/ }).click();
  await page.getByRole('link', { name: 'Approve invoice from ACME' }).first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Approve invoice from ACME');

  const decision = page.getByRole('region', { name: 'Decision' });
  const proposal = decision.getByRole('group', { name: 'Proposed output' });
  await expect(proposal.getByLabel('amount')).toHaveValue('5300');
  await proposal.getByLabel('amount').fill('5200');
  await decision.getByLabel('Note for the ledger').fill('PO says 5200');
  const approve = decision.getByRole('button', { name: 'Approve' });
  await expect(approve).toBeInViewport();
  // nothing on the page is wider than the phone
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await approve.click();
  await expect(page.getByTestId('item-status')).toHaveText('approved');
  await expect(decision.getByTestId('changes').locator('tbody tr')).toHaveText(['.amount53005200', '.note—PO says 5200']);

  await page.goto(`/runs/${run}`);
  await expect(page.getByTestId('run-status')).toHaveText('succeeded', { timeout: 15_000 });
  // the run page for people: titled by workflow and number, steps by name,
  // the approval tried once, the graph first
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Invoice approval · run \d+$/);
  const approval = page.locator('tr[data-step="approve"]');
  await expect(approval.locator('td').nth(0)).toContainText('Finance approval');
  await expect(approval.locator('td').nth(2)).toHaveText('1');
  const graph = (await page.getByRole('region', { name: 'Run graph' }).boundingBox())!;
  const facts = (await page.locator('.run-facts').boundingBox())!;
  expect(graph.y).toBeLessThan(facts.y);
  await expect(page.getByRole('table', { name: 'Run output' }).locator('tr[data-key="amount"]')).toContainText('5200');
  const ledger = await request.get(`/api/v1/runs/${run}`, { headers: apiAuth() });
  const steps = (await ledger.json()).steps as any[];
  const posted = steps.find((s) => s.node_id === 'post_ledger');
  expect(posted.output.body.entry).toEqual({ vendor: 'ACME', amount: 5200, currency: 'EUR', note: 'PO says 5200' });
  await expect(page.getByTestId('run-output')).toContainText('5200');

  // the audit trail records the change, before and after
  await page.goto(`/audit?run=${run}`);
  await expect(page.locator('td.details').filter({ hasText: '"path":".amount"' })).toContainText('{"from":5300,"path":".amount","to":5200}');
  await page.context().close();
});
