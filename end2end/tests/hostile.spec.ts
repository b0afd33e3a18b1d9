import { test, expect } from '../fixtures';
import { AppShell, WorkflowsPage, apiAuth } from '../pages/app';
import { Designer } from '../pages/designer';

test('a Transform using env is flagged in the problems as it is typed', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Reads the environment ${Date.now()}`);
  const d = new Designer(page);
  await d.select('start');
  await d.addByKeyboard('transform');
  const expression = d.inspector.getByLabel('Expression (jq)');
  await expression.fill('');
  await expression.pressSequentially('env | {key: .STEPWISE_SECRET_KEY}');
  await expect(page.locator('.problems-panel')).toContainText(
    "transform 'New transform' (transform_1): expression: unknown name `env`",
  );
  // a pure expression clears it
  await expression.fill('{key: .input.key}');
  await expect(page.locator('.problems-panel')).not.toContainText('unknown name');
});

test('an Http step to the cloud metadata address fails with the policy message on the run page', async ({ page, request }) => {
  const res = await request.post('/api/v1/workflows', {
    headers: apiAuth(),
    data: {
      name: `Metadata ${Date.now()}`,
      definition: {
        nodes: [
          { id: 'start', name: 'Start', type: 'start' },
          { id: 'meta', name: 'Read instance credentials', type: 'http', method: 'GET', url: 'http://169.254.169.254/latest/meta-data/iam/',
            retry: { business: { max_attempts: 1 } } },
          { id: 'end', name: 'End', type: 'end' },
        ],
        edges: [{ from: 'start', to: 'meta' }, { from: 'meta', to: 'end' }],
      },
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  const id = (await res.json()).workflow_id;
  await page.goto(`/workflows/${id}`);
  await new AppShell(page).waitHydrated();
  await page.getByRole('button', { name: 'Run…' }).click();
  await page.getByRole('form', { name: 'Run workflow' }).getByRole('button', { name: 'Run version 1' }).click();
  await expect(page).toHaveURL(/\/runs\//);
  await expect(page.getByTestId('run-status')).toHaveText('failed', { timeout: 15_000 });
  await expect(page.locator('tr[data-step="meta"]')).toContainText(
    '169.254.169.254 is a link-local address (cloud metadata); add it to the allowed hosts if this is intended',
  );
});
