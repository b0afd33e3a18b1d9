import { test, expect } from '../fixtures';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppShell, apiAuth } from '../pages/app';

// Monitoring as a person uses it: set an alert rule on a workflow's
// Monitoring page, watch the escalation rate rise after a burst of
// low-confidence runs, see the alert banner, and find the Slack-shaped
// notice at the webhook.
test('the escalation rate rises after a burst of doubtful runs and the alert banner appears', async ({ page, request }) => {
  test.setTimeout(90_000);
  const headers = apiAuth();
  const notices: { text: string }[] = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      notices.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/slack`;
  const started: string[] = [];
  try {
    const created = await request.post('/api/v1/workflows', {
      headers,
      data: {
        name: `Monitored ${Date.now()}`,
        definition: {
          nodes: [
            { id: 'start', name: 'Start', type: 'start' },
            { id: 'classify', name: 'Classify', type: 'transform', expression: '{label: "ok", confidence: .input.c}' },
            { id: 'end', name: 'End', type: 'end', output: '.steps.classify.output.label' },
          ],
          edges: [{ from: 'start', to: 'classify' }, { from: 'classify', to: 'end' }],
          settings: { confidence_threshold: 0.7 },
        },
      },
    });
    expect(created.status(), await created.text()).toBe(201);
    const wf = (await created.json()).workflow_id;
    const runs = async (c: number, n: number) => {
      for (let i = 0; i < n; i++) {
        const r = await request.post(`/api/v1/workflows/${wf}/runs`, { headers, data: { input: { c } } });
        expect(r.status(), await r.text()).toBe(202);
        const id = (await r.json()).run_id;
        started.push(id);
        await expect.poll(async () => {
          const d = await (await request.get(`/api/v1/runs/${id}`, { headers })).json();
          return d.status === 'succeeded' || d.steps.some((s: { status: string }) => s.status === 'waiting');
        }).toBe(true);
      }
    };
    await runs(0.95, 6);

    await page.goto(`/workflows/${wf}/monitoring`);
    await new AppShell(page).waitHydrated();
    await expect(page.getByTestId('runs-total')).toHaveText('6');
    await expect(page.getByTestId('escalation-rate')).toHaveText('0.0 %');
    await expect(page.getByTestId('alert-banner')).toHaveCount(0);

    // a rule: more than 20 % escalated over the last hour, told to the hook
    const form = page.getByRole('form', { name: 'New alert rule' });
    await form.getByLabel('Watch').selectOption({ label: 'escalation rate (%)' });
    await form.getByLabel('Fire above').fill('20');
    await form.getByLabel('Over the last (minutes)').fill('60');
    await form.getByLabel('With at least (runs)').fill('5');
    await form.getByLabel('Webhook URL (optional)').fill(hookUrl);
    // the figures are redrawn (another baseline, and back) while the rule
    // is half written: what was typed stays
    await page.getByLabel('Baseline').selectOption('golden');
    await expect(page.getByTestId('drift')).toHaveText('not enough runs');
    await page.getByLabel('Baseline').selectOption('previous');
    await expect(form.getByLabel('Webhook URL (optional)')).toHaveValue(hookUrl);
    await expect(form.getByLabel('Fire above')).toHaveValue('20');
    await form.getByRole('button', { name: 'Add rule' }).click();
    const rules = page.getByRole('region', { name: 'Alert rules' });
    await expect(rules.locator('tbody tr')).toContainText('escalation rate (%)');
    await expect(rules.locator('tbody tr')).toContainText('127.0.0.1');

    // a burst of doubtful runs: each waits for a person
    await runs(0.3, 6);
    await expect.poll(() => notices.length, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(notices[0].text).toContain(':rotating_light: Alert started on Monitored');
    // it started as soon as the rate passed 20 %, part-way through the burst
    const told = Number(/escalation rate \(%\) is ([0-9.]+) %/.exec(notices[0].text)?.[1]);
    expect(told).toBeGreaterThan(20);
    expect(notices[0].text).toContain(`/workflows/${wf}/monitoring`);

    // the rule is checked every second: once it has seen all 12 runs, the page shows it
    await expect.poll(async () => {
      const r = await (await request.get(`/api/v1/workflows/${wf}/alert-rules`, { headers })).json();
      return r.alert_rules[0].last_value;
    }, { timeout: 10_000 }).toBe(50);
    await page.reload();
    await new AppShell(page).waitHydrated();
    await expect(page.getByTestId('runs-total')).toHaveText('12');
    await expect(page.getByTestId('escalation-rate')).toHaveText('50.0 %');
    const banner = page.getByTestId('alert-banner');
    await expect(banner).toContainText('escalation rate (%) is 50.0 % (threshold 20.0 %, last 60 min)');
    await expect(rules.locator('tbody tr')).toContainText('firing');
    // the charts are drawn
    await expect(page.getByRole('img', { name: 'Failure and escalation rate' })).toBeVisible();
    await page.screenshot({ path: 'test-results/monitoring.png', fullPage: true });

    // the workflow's own page carries the banner too
    await page.goto(`/workflows/${wf}`);
    await expect(page.getByTestId('alert-banner')).toContainText('escalation rate (%) is 50.0 %');
    await page.getByTestId('alert-banner').getByRole('link', { name: 'See monitoring' }).click();
    await expect(page).toHaveURL(new RegExp(`/workflows/${wf}/monitoring$`));
  } finally {
    hook.close();
    // nobody's inbox keeps the burst, whatever happened: its runs are cancelled
    for (const id of started) {
      await request.post(`/api/v1/runs/${id}/cancel`, { headers });
    }
  }
});
