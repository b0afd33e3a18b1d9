import { test, expect } from '@playwright/test';
import { WorkflowsPage } from '../pages/app';
import { Designer } from '../pages/designer';

test('build a branching workflow by mouse and keyboard, save, reload, and run it', async ({ page, baseURL }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Built ${Date.now()}`);
  const d = new Designer(page);
  await expect(d.node('end')).toBeVisible();

  // start over from Start alone
  await d.select('end');
  await page.keyboard.press('Delete');
  await expect(d.node('end')).toHaveCount(0);

  // Start -> Transform
  await d.select('start');
  await d.addByKeyboard('transform');
  await expect(d.edge('start', 'out', 'transform_1')).toHaveCount(1);
  await d.inspector.getByLabel('Name').fill('Read the invoice');
  await d.inspector.getByLabel('Expression (jq)').fill('{amount: .input.amount}');

  // Transform -> Branch with two conditions and the default
  await d.select('transform_1');
  await d.addByKeyboard('branch');
  await expect(d.edge('transform_1', 'out', 'branch_1')).toHaveCount(1);
  const first = d.inspector.locator('fieldset.condition').nth(0);
  await first.getByLabel('Label (port)').fill('large');
  await first.getByLabel('Label (port)').press('Tab');
  await first.getByLabel('When (jq)').fill('.steps.transform_1.output.amount > 1000');
  await d.inspector.getByRole('button', { name: 'Add condition' }).click();
  const second = d.inspector.locator('fieldset.condition').nth(1);
  await second.getByLabel('Label (port)').fill('small');
  await second.getByLabel('Label (port)').press('Tab');
  await second.getByLabel('When (jq)').fill('.steps.transform_1.output.amount < 100');
  await expect(d.node('branch_1').locator('circle[data-port]')).toHaveCount(4); // large, small, default, error

  // each new step after the Branch takes its next free port
  await d.select('branch_1');
  await d.addByKeyboard('approval');
  await expect(d.edge('branch_1', 'large', 'approval_1')).toHaveCount(1);
  await d.inspector.getByLabel('Roles that may decide (comma-separated)').fill('approver');
  await d.inspector.getByLabel('Roles that may decide (comma-separated)').press('Tab');
  await d.inspector.getByRole('button', { name: 'Add field' }).click();
  await d.inspector.locator('.form-field').getByLabel('Label').fill('Cost centre');
  await d.inspector.locator('.form-field').getByLabel('Label').press('Tab');
  await expect(d.node('approval_1').locator('.node-summary')).toHaveText('needs: approver');

  await d.select('branch_1');
  await d.addByKeyboard('http');
  await expect(d.edge('branch_1', 'small', 'http_1')).toHaveCount(1);
  // a new Http step reads; this one writes to the ledger
  await expect(d.inspector.getByLabel('Method')).toHaveValue('GET');
  await expect(d.inspector.locator('.output-doc')).toContainText('.steps.http_1.output');
  await expect(d.inspector.locator('.output-doc')).toContainText('{status, body}');
  await d.inspector.getByLabel('Method').selectOption('POST');
  await d.inspector.getByLabel('URL (template)').fill(`${baseURL}/demo/ledger/entries`);
  await d.inspector.getByLabel('Body (template, optional)').fill('{"amount": {{ steps.transform_1.output.amount }}}');

  await d.select('branch_1');
  await d.addByKeyboard('end');
  await expect(d.edge('branch_1', 'default', 'end_1')).toHaveCount(1);
  await d.inspector.getByLabel('Name').fill('Medium amount');

  // both paths meet in a Join, then the second End
  await d.select('approval_1');
  await d.addByKeyboard('join');
  await expect(d.edge('approval_1', 'out', 'join_1')).toHaveCount(1);
  await d.connect('http_1', 'out', 'join_1');
  await d.select('join_1');
  await d.addByKeyboard('end');
  await expect(d.edge('join_1', 'out', 'end_2')).toHaveCount(1);
  await d.inspector.getByLabel('Output mapping (jq, optional)').fill('{booked: .steps.http_1.output}');

  await expect(d.root.getByText('No problems')).toBeVisible();
  // tidy up and keep it
  await d.root.getByRole('button', { name: 'Auto-layout' }).click();
  await d.save(2);
  const places = await d.places();
  const edges = await d.edges();
  expect(Object.keys(places).sort()).toEqual(
    ['approval_1', 'branch_1', 'end_1', 'end_2', 'http_1', 'join_1', 'start', 'transform_1'],
  );
  expect(edges).toHaveLength(8);

  await page.reload();
  await app.waitHydrated();
  expect(await d.places()).toEqual(places);
  expect(await d.edges()).toEqual(edges);
  await d.select('branch_1');
  await expect(d.inspector.locator('fieldset.condition').nth(1).getByLabel('When (jq)')).toHaveValue('.steps.transform_1.output.amount < 100');

  // a small amount takes the Http path, through the Join, to the End
  await page.getByRole('button', { name: 'Run…' }).click();
  await page.getByRole('form', { name: 'Run workflow' }).getByLabel('Input (JSON)').fill('{"amount": 42}');
  await page.getByRole('form', { name: 'Run workflow' }).getByRole('button', { name: 'Run version 2' }).click();
  await expect(page).toHaveURL(/\/runs\//);
  await expect(page.getByTestId('run-status')).toHaveText('succeeded', { timeout: 15_000 });
  await expect(page.locator('tr[data-step="http_1"]')).toContainText('succeeded');
  await expect(page.locator('tr[data-step="approval_1"]')).toContainText('skipped');
});

test('a step added after a taken output goes between, and a step can be inserted on a connection', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Insert ${Date.now()}`);
  const d = new Designer(page);
  await expect(d.edge('start', 'out', 'end')).toHaveCount(1);

  // Start's only output leads to End: the new step takes its place between
  await d.select('start');
  await d.addByKeyboard('transform');
  await expect(d.edge('start', 'out', 'transform_1')).toHaveCount(1);
  await expect(d.edge('transform_1', 'out', 'end')).toHaveCount(1);
  await expect(d.edge('start', 'out', 'end')).toHaveCount(0);
  await expect(page.getByTestId('designer-note')).toHaveText(
    'Added “New transform” between “Start” and “End”: “Start” had no free output.',
  );

  // select End: its incoming connection offers "+"; the new step goes on it
  await d.select('end');
  await d.edge('transform_1', 'out', 'end').getByRole('button', { name: 'Insert a step between New transform and End' }).click();
  const search = page.getByRole('dialog', { name: 'Add a step' });
  await expect(search).toContainText('Inserts it on the connection.');
  await page.keyboard.type('delay');
  await page.keyboard.press('Enter');
  await expect(d.edge('transform_1', 'out', 'delay_1')).toHaveCount(1);
  await expect(d.edge('delay_1', 'out', 'end')).toHaveCount(1);
  await expect(d.edge('transform_1', 'out', 'end')).toHaveCount(0);
  await expect(d.root.getByText('No problems')).toBeVisible();
});
