import { test, expect } from '../fixtures';
import { AppShell, apiAuth } from '../pages/app';

// A chaos run from the run form: inject a business error into one step and
// see the error path taken, the run marked as a chaos run on its page and
// in the runs list, and left out of the workflow's monitoring.
test('a chaos run from the run form takes the error path and is marked as one', async ({ page, request }) => {
  const headers = apiAuth();
  const name = `Chaos ${Date.now()}`;
  const created = await request.post('/api/v1/workflows', {
    headers,
    data: {
      name,
      definition: {
        nodes: [
          { id: 'start', name: 'Start', type: 'start' },
          { id: 'pay', name: 'Pay', type: 'transform', expression: '"paid"' },
          { id: 'done', name: 'Done', type: 'end', output: '.steps.pay.output' },
          { id: 'handled', name: 'Handled', type: 'end', output: '"handled"' },
        ],
        edges: [
          { from: 'start', to: 'pay' },
          { from: 'pay', to: 'done' },
          { from: 'pay', port: 'error', to: 'handled' },
        ],
      },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const wf = (await created.json()).workflow_id;

  await page.goto(`/workflows/${wf}`);
  await new AppShell(page).waitHydrated();
  await page.getByRole('button', { name: 'Run…' }).click();
  const form = page.getByRole('form', { name: 'Run workflow' });
  await form.getByText('Inject faults (chaos run)').click();
  await form.getByLabel('Inject faults', { exact: true }).check();
  await form.getByLabel('Seed').fill('42');
  await form.getByLabel('Steps').selectOption({ label: 'Pay' });
  await form.getByLabel('Transient failures %').fill('0');
  await form.getByLabel('Business errors %').fill('100');
  await form.getByRole('button', { name: 'Run version 1' }).click();

  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  await expect(page.getByTestId('chaos-run')).toContainText('Chaos run: faults injected (seed 42; pay: 100 % business)');
  await expect(page.getByTestId('run-output')).toContainText('handled');
  const runId = await page.getByTestId('run-id').textContent();

  await page.goto('/runs');
  await new AppShell(page).waitHydrated();
  await expect(page.locator(`tr[data-run="${runId}"] .badge.chaos`)).toHaveText('chaos');

  const m = await request.get(`/api/v1/workflows/${wf}/monitoring`, { headers });
  expect(m.status(), await m.text()).toBe(200);
  expect((await m.json()).figures.total.runs).toBe(0);
});
