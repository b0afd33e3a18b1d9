import { test, expect } from '../fixtures';
import { WorkflowsPage, apiAuth } from '../pages/app';
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
  await d.showAll();
  const places = await d.places();
  const edges = await d.edges();
  expect(Object.keys(places).sort()).toEqual(
    ['approval_1', 'branch_1', 'end_1', 'end_2', 'http_1', 'join_1', 'start', 'transform_1'],
  );
  expect(edges).toHaveLength(8);

  await page.reload();
  await app.waitHydrated();
  await d.showAll();
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

test('build Start → Http → Branch → two Ends without the mouse', async ({ page, request }) => {
  const res = await request.post('/api/v1/workflows', {
    headers: apiAuth(),
    data: { name: `Keyboard ${Date.now()}`, definition: {
      nodes: [
        { id: 'start', name: 'Start', type: 'start', position: { x: 40, y: 100 } },
        { id: 'end', name: 'End', type: 'end', position: { x: 300, y: 100 } },
      ],
      edges: [{ from: 'start', to: 'end' }],
    } },
  });
  expect(res.status(), await res.text()).toBe(201);
  const id = (await res.json()).workflow_id;
  await page.goto(`/workflows/${id}`);
  await new WorkflowsPage(page).waitHydrated();
  const d = new Designer(page);
  await d.root.focus();
  const key = (k: string) => page.keyboard.press(k);
  const focused = (id: string) => expect(d.node(id)).toBeFocused();

  // arrows go to a step; the selected step holds the keyboard
  await key('ArrowRight');
  await focused('start');
  await key('ArrowRight');
  await focused('end');
  await key('Delete');
  await expect(d.node('end')).toHaveCount(0);
  await key('ArrowRight');
  await focused('start');
  await expect(d.node('start')).toHaveAttribute('aria-selected', 'true');

  await d.addByKeyboard('http');
  await expect(d.edge('start', 'out', 'http_1')).toHaveCount(1);
  // Enter: into the inspector; type; Escape: back to the step
  await key('Enter');
  await expect(d.inspector.getByLabel('Name', { exact: true })).toBeFocused();
  await page.keyboard.press('Control+a');
  await page.keyboard.type('Look up the vendor');
  await key('Tab');
  await expect(d.inspector.getByLabel('Method')).toBeFocused();
  await expect(d.inspector.getByLabel('Method')).toHaveValue('GET');
  await key('Tab');
  await expect(d.inspector.getByLabel('URL (template)')).toBeFocused();
  await page.keyboard.press('Control+a');
  await page.keyboard.type('https://vendors.example.com/{{ input.vendor }}');
  await key('Escape');
  await focused('http_1');
  await expect(d.node('http_1')).toContainText('Look up the vendor');

  await d.addByKeyboard('branch');
  await expect(d.edge('http_1', 'out', 'branch_1')).toHaveCount(1);
  await d.addByKeyboard('end');
  await expect(d.edge('branch_1', 'yes', 'end_1')).toHaveCount(1);
  // back to the Branch with the left arrow, and its second way out
  await key('ArrowLeft');
  await focused('branch_1');
  await d.addByKeyboard('end');
  await expect(d.edge('branch_1', 'default', 'end_2')).toHaveCount(1);

  // C connects: the first End also gets the Http step's error path
  await key('ArrowLeft');
  await key('ArrowLeft');
  await focused('http_1');
  await key('c');
  const connect = page.getByRole('dialog', { name: 'Connect to a step' });
  await expect(connect).toBeVisible();
  await page.keyboard.type('end_1');
  await key('Enter');
  await expect(connect).toBeHidden();
  await expect(page.getByTestId('designer-note')).toContainText('Connected “Look up the vendor”');

  await expect(d.root.getByText('No problems')).toBeVisible();
  await page.keyboard.press('Control+s');
  await expect(page.getByTestId('designer-version')).toHaveText('version 2');
  const saved = await request.get(`/api/v1/workflows/${id}`, { headers: apiAuth() });
  const edges = ((await saved.json()).definition.edges as any[]).map((e) => `${e.from}-${e.port ?? 'out'}-${e.to}`).sort();
  expect(edges).toEqual(['branch_1-default-end_2', 'branch_1-yes-end_1', 'http_1-error-end_1', 'http_1-out-branch_1', 'start-out-http_1']);
});

test('adding and moving between steps scrolls the canvas, never the page', async ({ page }) => {
  await page.setViewportSize({ width: 1000, height: 600 });
  const d = new Designer(page);
  await d.openExample('post_ledger');
  const scrolled = () => page.evaluate(() => window.scrollY);
  const before = await scrolled();
  // far right of a wide graph: the canvas scrolls to the new step
  await d.addByKeyboard('delay');
  await expect(d.edge('post_ledger', 'out', 'delay_1')).toHaveCount(1);
  await expect(d.node('delay_1')).toBeInViewport();
  // and back along the connections to the left
  await page.keyboard.press('ArrowLeft');
  await expect(d.node('post_ledger')).toBeFocused();
  await page.keyboard.press('ArrowLeft');
  await expect(d.node('merge')).toBeFocused();
  await page.keyboard.press('ArrowLeft');
  await expect(d.node('route')).toBeFocused();
  await expect(d.node('route')).toBeInViewport();
  expect(await scrolled()).toBe(before);
});
