import { test, expect } from '@playwright/test';
import { WorkflowsPage } from '../pages/app';

test('the seeded example workflow is listed and opens', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  const row = app.row('Invoice approval');
  await expect(row).toBeVisible();
  await expect(row).toContainText('v1');
  await expect(row).toContainText('Ready');
  await expect(row).toContainText('system');
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
