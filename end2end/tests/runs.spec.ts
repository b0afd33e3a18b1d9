import { test, expect } from '@playwright/test';
import { WorkflowsPage } from '../pages/app';

test('run a workflow from its page and watch it finish', async ({ page }) => {
  const app = new WorkflowsPage(page);
  const name = `Runnable ${Date.now()}`;
  await app.goto();
  await app.create(name);
  await expect(app.heading()).toHaveText(name);

  const form = page.getByRole('form', { name: 'Run workflow' });
  await form.getByLabel('Input (JSON)').fill('{"invoice": 42}');
  await form.getByRole('button', { name: 'Run' }).click();

  await expect(page).toHaveURL(/\/runs\/run_/);
  // the page refreshes itself until the engine has finished the run
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  await expect(page.locator('tr[data-step="start"]')).toContainText('succeeded');
  await expect(page.locator('tr[data-step="end"]')).toContainText('succeeded');
  await expect(page.getByTestId('run-output')).toContainText('"invoice":42');

  await app.nav('Runs').click();
  await expect(page.locator('table.runs tbody tr').filter({ hasText: name }).first()).toContainText('succeeded');
});

test('input that is not JSON is refused and starts nothing', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.row('Invoice approval').getByRole('link').click();
  const form = page.getByRole('form', { name: 'Run workflow' });
  await form.getByLabel('Input (JSON)').fill('{amount: 12');
  await form.getByRole('button', { name: 'Run' }).click();
  await expect(page.getByRole('alert')).toContainText('not valid JSON');
  await expect(page).toHaveURL(/\/workflows\/wf_/);
});
