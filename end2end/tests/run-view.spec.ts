import { test, expect } from '../fixtures';
import { AppShell, apiAuth } from '../pages/app';

test('a retrying run is watched live, its attempts read; another is cancelled; both are in the audit trail', async ({ page, request, baseURL }) => {
  const definition = (second: object) => ({
    nodes: [
      { id: 'start', name: 'Start', type: 'start' },
      second,
      { id: 'end', name: 'End', type: 'end' },
    ],
    edges: [{ from: 'start', to: 'step' }, { from: 'step', to: 'end' }],
  });
  const create = async (name: string, def: object) => {
    const res = await request.post('/api/v1/workflows', { headers: apiAuth(), data: { name, definition: def } });
    expect(res.status(), await res.text()).toBe(201);
    return (await res.json()).workflow_id as string;
  };
  const flaky = await create(`Flaky ${Date.now()}`, definition({
    id: 'step', name: 'Call the flaky service', type: 'http', method: 'POST', url: `${baseURL}/demo/flaky`,
    body: '{{ steps.start.output | tojson }}',
    retry: { transient: { max_attempts: 3, initial_delay_ms: 1500, jitter: 0 } },
  }));
  const slow = await create(`Slow ${Date.now()}`, definition({ id: 'step', name: 'Wait', type: 'delay', duration_ms: 600000 }));

  // start from the UI, watch it without reloading
  await page.goto(`/workflows/${flaky}`);
  await new AppShell(page).waitHydrated();
  await page.getByRole('button', { name: 'Run…' }).click();
  await page.getByRole('form', { name: 'Run workflow' }).getByRole('button', { name: 'Run version 1' }).click();
  await expect(page).toHaveURL(/\/runs\//);
  const retried = page.url().split('/runs/')[1];
  await expect(page.locator('tr[data-step="step"]')).toContainText('transient error', { timeout: 10_000 });
  await expect(page.getByTestId('retrying')).toContainText('retrying at');
  await expect(page.getByTestId('run-status')).toHaveText('succeeded', { timeout: 15_000 });
  await expect(page.locator('tr[data-step="step"] td').nth(2)).toHaveText('2');
  await page.locator('tr[data-step="step"]').getByRole('button', { name: 'Details' }).click();
  const panel = page.getByRole('region', { name: 'Step' });
  await expect(panel).toContainText(`${retried}:step`);
  await expect(panel.locator('li[data-attempt="1"]')).toContainText('Attempt 1: failed');
  await expect(panel.locator('li[data-attempt="1"]')).toContainText('503');
  await expect(panel.locator('li[data-attempt="2"]')).toContainText('Attempt 2: succeeded');
  await expect(panel.locator('li[data-attempt="2"]').getByTestId('lineage')).toHaveText('It read the outputs of: start');
  await expect(panel.locator('li[data-attempt="2"]').getByRole('button', { name: 'Copy' }).first()).toBeVisible();
  // the timeline draws both attempts and the back-off between them
  const timeline = page.getByRole('region', { name: 'Timeline' });
  await expect(timeline.locator('.bar-row')).toHaveCount(3);
  const row = timeline.locator('.bar-row[data-step="step"]');
  await expect(row.locator('.bar.status-failed')).toHaveCount(1);
  await expect(row.locator('.gap')).toHaveAttribute('title', /^waiting to retry: /);
  await expect(row.locator('.bar.status-succeeded')).toHaveCount(1);
  // the graph shows each step's state
  const graphStep = page.getByRole('region', { name: 'Run graph' }).locator('g[data-node="step"]');
  await expect(graphStep).toHaveClass(/run-succeeded/);
  await expect(graphStep.locator('.run-state')).toHaveText('succeeded ×2');

  // a re-run compares itself with the original, step by step
  await page.getByRole('button', { name: 'Re-run', exact: true }).click();
  await expect(page).not.toHaveURL(new RegExp(retried));
  await expect(page.getByTestId('run-status')).toHaveText('succeeded', { timeout: 15_000 });
  const diff = page.getByRole('region', { name: 'Compared with the original run' });
  await expect(diff.locator('tr[data-step="start"]')).toContainText('same output');
  await expect(diff.locator('tr[data-step="step"]')).toContainText('different output');

  // another run waits; cancel it from its page
  const res = await request.post(`/api/v1/workflows/${slow}/runs`, { headers: apiAuth(), data: { input: {} } });
  const cancelled = (await res.json()).run_id;
  await page.goto(`/runs/${cancelled}`);
  await new AppShell(page).waitHydrated();
  // the delay's wait until its timer is on the timeline
  await expect(page.getByRole('region', { name: 'Timeline' }).locator('.bar-row[data-step="step"] .gap'))
    .toHaveAttribute('title', /^waiting for its timer: (10m|9m)/);
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('cancelled');

  // both in the audit trail, filtered by run; the chain verifies
  for (const [run, action] of [[retried, 'run.started'], [cancelled, 'run.cancelled']]) {
    await page.goto(`/audit?run=${run}`);
    await new AppShell(page).waitHydrated();
    await expect(page.locator('table.audit')).toContainText(action);
    const entities = await page.locator('table.audit tbody td:nth-child(5)').allInnerTexts();
    expect(new Set(entities)).toEqual(new Set([`run:${run}`]));
  }
  await page.getByRole('button', { name: 'Verify the chain' }).click();
  await expect(page.getByTestId('verify')).toContainText('Intact');
});
