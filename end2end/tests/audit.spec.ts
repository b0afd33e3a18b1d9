import { test, expect } from '../fixtures';
import { AppShell, WorkflowsPage } from '../pages/app';

test('the audit page filters, verifies the chain and exports', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  const name = `Audited ${Date.now()}`;
  await app.create(name);
  await expect(app.heading()).toHaveText(name);

  await page.goto('/audit');
  await new AppShell(page).waitHydrated();
  await page.getByRole('button', { name: 'Verify the chain' }).click();
  await expect(page.getByTestId('verify')).toContainText('Intact: all');
  // the head, kept and given back as the anchor, is still there
  const head = await page.getByTestId('audit-head').innerText();
  expect(head).toMatch(/^\d+:[0-9a-f]{64}$/);
  await page.getByLabel('Anchor').fill(head);
  await page.getByRole('button', { name: 'Verify the chain' }).click();
  await expect(page.getByTestId('verify')).toContainText('Intact: all');
  // an anchor beyond the end says newer events are missing
  const [seq, hash] = head.split(':');
  await page.getByLabel('Anchor').fill(`${Number(seq) + 1000}:${hash}`);
  await page.getByRole('button', { name: 'Verify the chain' }).click();
  await expect(page.getByTestId('verify')).toContainText(`but the anchor names event ${Number(seq) + 1000}`);
  await page.getByLabel('Anchor').fill('yesterday');
  await page.getByRole('button', { name: 'Verify the chain' }).click();
  await expect(page.getByRole('alert')).toContainText("the anchor 'yesterday' is not of the form SEQ:HASH");
  await page.getByLabel('Anchor').fill('');

  const filters = page.getByRole('group', { name: 'Filters' });
  await filters.getByLabel('Action').fill('workflow.created');
  await filters.getByLabel('Action').press('Enter');
  await filters.getByLabel('Who').fill('user:admin');
  await filters.getByLabel('Who').press('Enter');
  const rows = page.locator('table.audit tbody tr');
  await expect(rows.first()).toContainText('workflow.created');
  const actions = await rows.locator('td:nth-child(4)').allInnerTexts();
  expect(actions.length).toBeGreaterThan(0);
  expect(new Set(actions)).toEqual(new Set(['workflow.created']));

  const download = page.waitForEvent('download');
  await filters.getByRole('link', { name: 'Export CSV' }).click();
  const csv = require('node:fs').readFileSync(await (await download).path(), 'utf8');
  expect(csv.split('\n')[0]).toBe('seq,at,actor,action,entity,run_id,details');
  expect(csv).toContain(name);
});
