import { test, expect } from '../fixtures';
import { WorkflowsPage, apiAuth } from '../pages/app';
import { Designer } from '../pages/designer';

test('the seeded example workflow is listed and opens', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  const row = app.row('Invoice approval');
  await expect(row).toBeVisible();
  await expect(row).toContainText('v1');
  await expect(row).toContainText('Ready');
  await expect(row).toContainText('system');
  // the example is published: what starts it without naming a version runs it
  await expect(row.getByTestId('live')).toHaveText('v1');
  await row.getByRole('link', { name: 'Invoice approval' }).click();
  await expect(app.heading()).toHaveText('Invoice approval');
  // the step list opens on demand
  await page.getByText(/^Steps \(\d+\)$/).click();
  const step = page.locator('table.steps tbody tr').filter({ hasText: 'needs: approver' });
  await expect(step).toContainText('Finance approval');
  await expect(step).toContainText('approval');
  await expect(page.getByText('Ready to run')).toBeVisible();
  // and the designer draws the same step
  await expect(page.locator('g[data-node="approve"] .node-summary')).toHaveText('needs: approver');
});

test('a workflow created in the UI persists across reload', async ({ page }) => {
  const app = new WorkflowsPage(page);
  const name = `Supplier onboarding ${Date.now()}`;
  await app.goto();
  await app.create(name);
  // creating opens the new workflow
  await expect(app.heading()).toHaveText(name);
  await expect(page).toHaveURL(/\/workflows\/wf_/);
  await page.reload();
  await app.waitHydrated();
  await expect(app.heading()).toHaveText(name);
  await app.goto();
  await expect(app.row(name)).toContainText('v1');
  await page.reload();
  await expect(app.row(name)).toBeVisible();
});

test('an empty name is refused with a clear message and nothing is created', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  const before = await page.locator('table.workflows tbody tr').count();
  await page.getByRole('button', { name: 'New workflow' }).click();
  const form = page.getByRole('form', { name: 'New workflow' });
  await form.getByLabel('Name').fill('   ');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('alert')).toContainText('needs a name');
  await expect(page.locator('table.workflows tbody tr')).toHaveCount(before);
});

test('rename and delete a workflow', async ({ page }) => {
  const app = new WorkflowsPage(page);
  const name = `Temp ${Date.now()}`;
  await app.goto();
  await app.create(name);
  await expect(app.heading()).toHaveText(name);
  await app.goto();

  const id = await app.row(name).getAttribute('data-workflow');
  const row = page.locator(`tr[data-workflow="${id}"]`);
  await row.getByRole('button', { name: 'Rename' }).click();
  await row.getByLabel('New name').fill(`${name} renamed`);
  await row.getByRole('button', { name: 'Save' }).click();
  const renamed = app.row(`${name} renamed`);
  await expect(renamed).toBeVisible();

  await renamed.getByRole('button', { name: 'Delete' }).click();
  await expect(renamed).toContainText('Its history is kept');
  await renamed.getByRole('button', { name: 'Confirm delete' }).click();
  await expect(app.row(`${name} renamed`)).toHaveCount(0);
  await page.reload();
  await expect(app.row(`${name} renamed`)).toHaveCount(0);

  // the audit trail recorded all three changes
  await app.nav('Audit').click();
  await expect(page.getByRole('cell', { name: 'workflow.deleted' }).first()).toBeVisible();
  await expect(page.getByRole('cell', { name: 'workflow.renamed' }).first()).toBeVisible();
});

test('publish a version: a start that names no version runs it while a newer version is saved', async ({ page, request }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  const name = `Live ${Date.now()}`;
  await app.create(name);
  const d = new Designer(page);
  await expect(d.node('end')).toBeVisible();
  const live = page.getByTestId('published');
  await expect(live).toHaveText('Not published');
  await page.getByRole('button', { name: 'Publish version 1' }).click();
  await expect(live).toHaveText('Live: version 1');
  await expect(page.getByTestId('designer-note')).toContainText('Published version 1');
  await expect(page.getByRole('button', { name: 'Publish version 1' })).toHaveCount(0);

  // an edit: the canvas differs from what is live, and stays so once saved
  await d.select('end');
  await d.inspector.getByLabel('Name').fill('Finished');
  await d.inspector.getByLabel('Name').press('Tab');
  await expect(live).toHaveText('Live: version 1 · the canvas differs');
  await d.save(2);
  await expect(live).toHaveText('Live: version 1 · the canvas differs');
  await expect(page.getByRole('button', { name: 'Publish version 2' })).toBeVisible();

  // a REST start without a version runs version 1
  const id = page.url().split('/').pop();
  const started = await request.post(`/api/v1/workflows/${id}/runs`, { headers: apiAuth(), data: { input: {} } });
  expect(started.status()).toBe(202);
  const run = await request.get(`/api/v1/runs/${(await started.json()).run_id}`, { headers: apiAuth() });
  expect((await run.json()).version).toBe(1);
  await app.goto();
  await expect(app.row(name).getByTestId('live')).toHaveText('v1 (v2 saved since)');

  // publishing and unpublishing are in the audit trail with who did it
  await app.row(name).getByRole('link', { name }).click();
  await page.getByRole('button', { name: 'Unpublish' }).click();
  await expect(live).toHaveText('Not published');
  const audit = await request.get(`/api/v1/audit?format=jsonl&entity=workflow%3A${id}`, { headers: apiAuth() });
  const events = (await audit.text()).trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.action.includes('publish'));
  expect(events.map((e) => [e.action, e.actor, e.details.version]).sort()).toEqual([
    ['workflow.published', 'user:admin', 1],
    ['workflow.unpublished', 'user:admin', 1],
  ]);
});

test('an admin sets how long a workflow keeps its finished runs; a careless number is refused', async ({ page, request }) => {
  const created = await request.post('/api/v1/workflows', {
    headers: apiAuth(),
    data: {
      name: `Kept ${Date.now()}`,
      definition: {
        nodes: [{ id: 'start', name: 'Start', type: 'start' }, { id: 'end', name: 'End', type: 'end' }],
        edges: [{ from: 'start', to: 'end' }],
      },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const wf = (await created.json()).workflow_id;
  const app = new WorkflowsPage(page);
  await app.open(`/workflows/${wf}`);
  const panel = page.getByRole('region', { name: 'Retention' });
  await expect(panel.getByTestId('retention')).toContainText('kept as the instance says');
  const days = panel.getByLabel('Keep finished runs (days; empty: the instance default)');
  await days.fill('0');
  // the browser's own check is bypassed the way a careless client would
  await days.evaluate((el: HTMLInputElement) => el.removeAttribute('min'));
  await panel.getByRole('button', { name: 'Save retention' }).click();
  await expect(panel.getByRole('alert')).toContainText('days must be 1 to 36500');
  await days.fill('30');
  await panel.getByRole('button', { name: 'Save retention' }).click();
  await expect(panel.getByTestId('retention')).toHaveText('Finished runs are deleted 30 days after they end; the audit trail is kept.');
  await page.reload();
  await app.waitHydrated();
  await expect(page.getByRole('region', { name: 'Retention' }).getByTestId('retention')).toContainText('30 days');
  // the change is audited
  const audit = await request.get(`/api/v1/audit?entity=workflow%3A${wf}&action=workflow.retention_set`, { headers: apiAuth() });
  const events = (await audit.json()).events;
  expect(events[0].details).toEqual({ days: 30 });
});
