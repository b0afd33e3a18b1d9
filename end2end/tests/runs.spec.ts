import { test, expect } from '../fixtures';
import { WorkflowsPage } from '../pages/app';

test('run a workflow from its page and watch it finish', async ({ page }) => {
  const app = new WorkflowsPage(page);
  const name = `Runnable ${Date.now()}`;
  await app.goto();
  await app.create(name);
  await expect(app.heading()).toHaveText(name);

  // Run sits in the designer's toolbar; no Start schema: the input is JSON
  await page.getByRole('button', { name: 'Run…' }).click();
  const form = page.getByRole('form', { name: 'Run workflow' });
  await form.getByLabel('Input (JSON)').fill('{"invoice": 42}');
  await form.getByRole('button', { name: 'Run version 1' }).click();

  await expect(page).toHaveURL(/\/runs\/run_/);
  // the page refreshes itself until the engine has finished the run
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  await expect(page.locator('tr[data-step="start"]')).toContainText('succeeded');
  await expect(page.locator('tr[data-step="end"]')).toContainText('succeeded');
  await expect(page.getByTestId('run-output')).toContainText('"invoice":42');
  // it says how it started
  await expect(page.locator('.run-facts')).toContainText('by user:admin in the browser');

  await app.nav('Runs').click();
  const row = page.locator('table.runs tbody tr').filter({ hasText: name }).first();
  await expect(row).toContainText('succeeded');
  await expect(row.getByTestId('origin')).toHaveText('in the browser');
});

test('input that is not JSON is refused and starts nothing', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.row('Invoice approval').getByRole('link').click();
  await page.getByRole('button', { name: 'Run…' }).click();
  const form = page.getByRole('form', { name: 'Run workflow' });
  await form.getByRole('button', { name: 'Edit as JSON' }).click();
  await form.getByLabel('Input (JSON)').fill('{amount: 12');
  await form.getByRole('button', { name: 'Run version 1' }).click();
  await expect(form.getByRole('alert')).toContainText('not valid JSON');
  await expect(page).toHaveURL(/\/workflows\/wf_/);
});

test('the run form is made from the Start schema and says which field is wrong', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.row('Invoice approval').getByRole('link').click();
  await page.getByRole('button', { name: 'Run…' }).click();
  const form = page.getByRole('form', { name: 'Run workflow' });
  await expect(form.getByLabel('vendor *')).toBeVisible();
  await form.getByLabel('vendor *').fill('Tiny Ltd');
  // the amount is required
  await form.getByRole('button', { name: 'Run version 1' }).click();
  await expect(form.getByRole('alert')).toContainText('amount');
  await form.getByLabel('amount *').fill('40');
  await form.getByRole('button', { name: 'Run version 1' }).click();
  await expect(page).toHaveURL(/\/runs\/run_/);
  await expect(page.getByTestId('run-status')).toHaveText('succeeded', { timeout: 15_000 });
  await expect(page.getByTestId('run-output')).toContainText('"amount":40');
});
