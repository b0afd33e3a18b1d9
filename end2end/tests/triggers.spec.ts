import { test, expect, type APIRequestContext, type Page } from '../fixtures';
import { WorkflowsPage, apiAuth, signedPost } from '../pages/app';
import { Designer } from '../pages/designer';

/** A new workflow (Start → End), version 1 published; returns its id. */
async function publishedWorkflow(page: Page, name: string): Promise<string> {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(name);
  await expect(new Designer(page).node('end')).toBeVisible();
  await page.getByRole('button', { name: 'Publish version 1' }).click();
  await expect(page.getByTestId('published')).toHaveText('Live: version 1');
  return page.url().split('/').pop()!;
}

test('create a schedule and see its next fires in its time zone', async ({ page }) => {
  await publishedWorkflow(page, `Morning ${Date.now()}`);
  const panel = page.getByRole('region', { name: 'Triggers' });
  await expect(panel.getByRole('heading', { name: 'No triggers' })).toBeVisible();
  await panel.getByRole('button', { name: 'Add schedule' }).click();
  const form = page.getByRole('form', { name: 'New schedule' });
  await form.getByLabel('Name').fill('Weekday mornings');
  await form.getByRole('textbox', { name: /^Cron/ }).fill('0 7 * * MON-FRI');
  await form.getByLabel('Time zone').fill('Europe/Berlin');
  // the preview follows what is typed: five weekday mornings at 07:00 Berlin time
  const preview = form.getByTestId('preview-fires').getByRole('listitem');
  await expect(preview).toHaveCount(5);
  await expect(preview.first()).toHaveText(/T07:00:00\+0[12]:00$/);
  // a mistake is named before saving
  await form.getByRole('textbox', { name: /^Cron/ }).fill('0 25 * * *');
  await expect(form.getByRole('alert')).toContainText("when.cron '0 25 * * *'");
  await form.getByRole('textbox', { name: /^Cron/ }).fill('0 7 * * MON-FRI');
  await form.getByRole('button', { name: 'Add trigger' }).click();

  const card = panel.getByRole('article', { name: 'Trigger Weekday mornings' });
  await expect(card.getByTestId('trigger-state')).toHaveText('Active');
  await expect(card).toContainText('Cron 0 7 * * MON-FRI in Europe/Berlin');
  const fires = card.getByTestId('next-fires').getByRole('listitem');
  await expect(fires).toHaveCount(5);
  for (const f of await fires.allTextContents()) expect(f).toMatch(/T07:00:00\+0[12]:00$/);
  // paused: no next fires, and it says so
  await card.getByRole('button', { name: 'Pause' }).click();
  await expect(card.getByTestId('trigger-state')).toHaveText('Paused');
  await expect(card.getByTestId('next-fires')).toHaveCount(0);
  await card.getByRole('button', { name: 'Resume' }).click();
  await expect(card.getByTestId('next-fires').getByRole('listitem')).toHaveCount(5);
  // changed: half past six every day, in New York
  await card.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: 'Change “Weekday mornings”' });
  await expect(edit.getByRole('textbox', { name: /^Cron/ })).toHaveValue('0 7 * * MON-FRI');
  await edit.getByRole('textbox', { name: /^Cron/ }).fill('30 6 * * *');
  await edit.getByLabel('Time zone').fill('America/New_York');
  await edit.getByRole('button', { name: 'Save trigger' }).click();
  await expect(card).toContainText('Cron 30 6 * * * in America/New_York');
  for (const f of await card.getByTestId('next-fires').getByRole('listitem').allTextContents()) expect(f).toMatch(/T06:30:00-0[45]:00$/);
  // deleted after a second click
  await card.getByRole('button', { name: 'Delete…' }).click();
  await card.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(panel.getByRole('article', { name: 'Trigger Weekday mornings' })).toHaveCount(0);
  await expect(panel.getByRole('heading', { name: 'No triggers' })).toBeVisible();
});

test('a signed webhook starts the published version while a newer draft exists, and the run links back', async ({ page, request, baseURL }) => {
  const name = `Hooked ${Date.now()}`;
  await publishedWorkflow(page, name);
  // a newer version is saved but not published
  const d = new Designer(page);
  await d.select('end');
  await d.inspector.getByLabel('Name').fill('Finished');
  await d.inspector.getByLabel('Name').press('Tab');
  await d.save(2);
  await expect(page.getByTestId('published')).toHaveText('Live: version 1 · the canvas differs');

  const panel = page.getByRole('region', { name: 'Triggers' });
  await panel.getByRole('button', { name: 'Add webhook' }).click();
  const form = page.getByRole('form', { name: 'New webhook' });
  await form.getByLabel('Name').fill('Invoices in');
  await form.getByRole('button', { name: 'Add trigger' }).click();
  // the key is shown once
  const key = (await panel.getByTestId('secret-value').textContent())!.trim();
  expect(key).toMatch(/^whsec_[0-9a-f]{64}$/);
  await panel.getByRole('button', { name: 'Done' }).click();
  await expect(panel.getByTestId('secret-value')).toHaveCount(0);
  const card = panel.getByRole('article', { name: 'Trigger Invoices in' });
  const url = (await card.getByTestId('hook-url').textContent())!.trim();
  expect(url.startsWith(`${baseURL}/hooks/trg_`)).toBe(true);

  // a wrong signature is refused and shown; the right one starts a run
  const bad = await signedPost(request, url, 'whsec_wrong', '{"n": 1}');
  expect(bad.status()).toBe(401);
  const ok = await signedPost(request, url, key, '{"n": 2}');
  expect(ok.status()).toBe(202);
  const runId = (await ok.json()).run_id as string;
  const run = await request.get(`/api/v1/runs/${runId}?wait_ms=10000`, { headers: apiAuth() });
  expect((await run.json()).version).toBe(1);

  await page.reload();
  const events = page.getByRole('article', { name: 'Trigger Invoices in' }).locator('table.trigger-events');
  await expect(events.locator('tr[data-outcome="started"]')).toHaveCount(1);
  await expect(events.locator('tr[data-outcome="refused"]')).toContainText('does not match');

  // the runs list says how it started and links to the trigger
  await page.goto('/runs');
  const row = page.locator(`tr[data-run="${runId}"]`);
  await expect(row.getByTestId('origin')).toHaveText('by a webhook');
  await page.goto(`/runs/${runId}`);
  await page.getByTestId('trigger-link').click();
  await expect(page).toHaveURL(/\/workflows\/wf_[0-9a-f]+#trigger-trg_/);
  await expect(page.getByRole('article', { name: 'Trigger Invoices in' })).toBeVisible();
});

test('listen for a test event: the delivery shows, starts no run, and becomes the sample input', async ({ page, request }) => {
  const id = await publishedWorkflow(page, `Listening ${Date.now()}`);
  const panel = page.getByRole('region', { name: 'Triggers' });
  await panel.getByRole('button', { name: 'Add webhook' }).click();
  const form = page.getByRole('form', { name: 'New webhook' });
  await form.getByLabel('Name').fill('Orders');
  await form.getByLabel(/^Mapping/).fill('{order: .body.id}');
  await form.getByRole('button', { name: 'Add trigger' }).click();
  const key = (await panel.getByTestId('secret-value').textContent())!.trim();
  const card = panel.getByRole('article', { name: 'Trigger Orders' });
  const url = (await card.getByTestId('hook-url').textContent())!.trim();
  await card.getByRole('button', { name: 'Listen for a test event' }).click();
  await expect(card.getByRole('button', { name: /Listening/ })).toBeDisabled();
  // send once the server has the listener (the API says so)
  const triggerId = url.split('/').pop();
  await expect(async () => {
    const t = await request.get(`/api/v1/triggers/${triggerId}`, { headers: apiAuth() });
    expect((await t.json()).listening).toBe(true);
  }).toPass({ timeout: 10_000 });
  const r = await signedPost(request, url, key, '{"id": "A-17"}');
  expect((await r.json()).test_event).toBe(true);
  await expect(card.getByTestId('test-input')).toContainText('"order": "A-17"');
  const runs = await request.get(`/api/v1/runs?workflow_id=${id}`, { headers: apiAuth() });
  expect((await runs.json()).runs).toHaveLength(0);
  await card.getByRole('button', { name: 'Use as sample input' }).click();
  const runPanel = page.getByRole('form', { name: 'Run workflow' });
  await expect(runPanel.getByTestId('sample-input')).toBeVisible();
  await expect(runPanel.locator('pre.json')).toContainText('"order": "A-17"');
});

test('the API reference page lists every operation and its schemas, served by the app', async ({ page, request }) => {
  const doc = await (await request.get('/api/v1/openapi.json')).json();
  const count = Object.values(doc.paths as Record<string, object>).reduce((n, item) => n + Object.keys(item).length, 0);
  await page.goto('/api');
  await expect(page.getByRole('heading', { name: 'API reference', level: 1 })).toBeVisible();
  await expect(page.locator('article.api-op')).toHaveCount(count);
  const hook = page.getByRole('article', { name: 'POST /hooks/{path}' });
  await expect(hook).toContainText('401');
  await hook.getByRole('link', { name: 'HookAnswer' }).first().click();
  await expect(page).toHaveURL(/#schema-HookAnswer$/);
  await expect(page.getByRole('article', { name: 'Schema HookAnswer' })).toContainText('status_url');
  // nothing on the page comes from another host
  const foreign = await page.evaluate(() =>
    [...document.querySelectorAll('script[src], link[href], img[src]')]
      .map((e) => (e as HTMLScriptElement).src || (e as HTMLLinkElement).href)
      .filter((u) => u && new URL(u).host !== location.host));
  expect(foreign).toEqual([]);
});
