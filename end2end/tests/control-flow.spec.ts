import { test, expect } from '../fixtures';
import { WorkflowsPage, apiAuth, signIn } from '../pages/app';
import { Designer, dragBy } from '../pages/designer';

test('draw a For each with a body, run it over five lines, and open item 3', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Lines ${Date.now()}`);
  const d = new Designer(page);
  await expect(d.node('end')).toBeVisible();
  await d.select('end');
  await page.keyboard.press('Delete');

  // Start -> For each, which comes with its body's Start and End in its frame
  await d.select('start');
  await d.addByKeyboard('for_each');
  await expect(d.edge('start', 'out', 'for_each_1')).toHaveCount(1);
  await expect(page.locator('g.frame[data-frame="for_each_1"]')).toBeVisible();
  await expect(d.node('item_1')).toHaveAttribute('data-parent', 'for_each_1');
  await expect(d.node('item_done_1')).toHaveAttribute('data-parent', 'for_each_1');
  await d.inspector.getByLabel('Name').fill('Each line');
  await d.inspector.getByLabel('Items (jq over the run context: a list)').fill('.input.lines');
  await d.inspector.getByLabel('Items at once').fill('2');
  await d.inspector.getByLabel('Items at once').press('Tab');

  // a step inserted on the body's connection belongs to the body
  await d.select('item_1');
  await page.getByRole('button', { name: 'Insert a step between Item and Item done' }).click();
  await page.keyboard.type('transform');
  await page.keyboard.press('Enter');
  await expect(d.edge('item_1', 'out', 'transform_1')).toHaveCount(1);
  await expect(d.edge('transform_1', 'out', 'item_done_1')).toHaveCount(1);
  await expect(d.node('transform_1')).toHaveAttribute('data-parent', 'for_each_1');
  await d.inspector.getByLabel('Name').fill('Price the line');
  await d.inspector.getByLabel('Expression (jq)').fill('{sku: .item.sku, index: .index, total: (.item.qty * .item.price)}');
  await d.select('item_done_1');
  await d.inspector.getByLabel('Output mapping (jq, optional)').fill('.steps.transform_1.output');

  // after the For each, on the canvas: the run's End
  await d.select('for_each_1');
  await d.addByKeyboard('end');
  await expect(d.edge('for_each_1', 'out', 'end_1')).toHaveCount(1);
  await expect(d.node('end_1')).not.toHaveAttribute('data-parent', /.+/);
  await d.inspector.getByLabel('Output mapping (jq, optional)').fill('.steps.for_each_1.output');
  await expect(d.root.getByText('No problems')).toBeVisible();

  // a step dragged into the frame joins the body (and is a problem there);
  // dragged out again it leaves
  // nothing selected (a click on the background), so the new step stands alone
  await page.locator('svg.canvas').click({ position: { x: 5, y: 5 } });
  await d.addByKeyboard('delay');
  const stray = d.node('delay_1');
  const frame = (await page.locator('g.frame[data-frame="for_each_1"] rect').boundingBox())!;
  let box = (await stray.locator('rect').boundingBox())!;
  await dragBy(page, box.x + 20, box.y + 10, frame.x + frame.width / 2 - box.x - 20, frame.y + frame.height - 40 - box.y - 10);
  await expect(stray).toHaveAttribute('data-parent', 'for_each_1');
  await expect(d.root.getByText('No problems')).toHaveCount(0);
  box = (await stray.locator('rect').boundingBox())!;
  await dragBy(page, box.x + 20, box.y + 10, 0, 300);
  await expect(stray).not.toHaveAttribute('data-parent', /.+/);
  await d.select('delay_1');
  await page.keyboard.press('Delete');
  await expect(d.root.getByText('No problems')).toBeVisible();

  // run it over five lines
  const lines = [1, 2, 3, 4, 5].map((i) => ({ sku: `s${i}`, qty: i, price: 10 }));
  await page.getByRole('button', { name: 'Run…' }).click();
  const form = page.getByRole('form', { name: 'Run workflow' });
  await form.getByLabel('Input (JSON)').fill(JSON.stringify({ lines }));
  await form.getByRole('button', { name: 'Save and run' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  const items = page.getByTestId('items-for_each_1');
  await expect(items.getByTestId('item-counts')).toHaveText('5 items: 5 succeeded, 0 failed, 0 running, 0 cancelled, 0 not started');
  await expect(items.locator('tr[data-item]')).toHaveCount(5);

  // item 3's own run, with its steps
  const root = await page.getByTestId('run-id').textContent();
  await items.getByRole('link', { name: 'Item 3' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  await expect(page.locator('.run-facts')).toContainText('item 3 of step for_each_1');
  await expect(page.locator('table.steps tr[data-step]')).toHaveCount(3);
  await expect(page.locator('tr[data-step="transform_1"]')).toContainText('Price the line');
  await expect(page.getByTestId('run-output')).toContainText('"total":40');
  // a step of an item sends a key naming the run, the step and the item
  await page.locator('tr[data-step="transform_1"]').getByRole('button', { name: 'Details' }).click();
  await expect(page.getByTestId('idempotency-key')).toHaveText(`${root}:transform_1:3`);
  await page.getByTestId('parent-run').click();
  await expect(page.getByTestId('items-for_each_1')).toBeVisible();
});

test('revise until approved: a rejection sends the draft round again, decided twice in the inbox', async ({ browser, baseURL, request }) => {
  const name = `Revise ${Date.now()}`;
  const definition = {
    nodes: [
      { id: 'start', name: 'Start', type: 'start' },
      {
        id: 'draft', name: 'Write the draft', type: 'transform', max_iterations: 3,
        expression: '{text: "draft \\(.steps.review.iterations // [] | length + 1) for \\(.input.to)", asked: (.steps.review.iterations // [] | last | .comment?)}',
      },
      {
        id: 'review', name: 'Review', type: 'approval', title: 'Review {{ steps.draft.output.text }}',
        instructions: 'Send it, or say what to change.', approvers: { roles: ['approver'] },
      },
      { id: 'send', name: 'Send', type: 'transform', expression: '{sent: .steps.draft.output.text}' },
      { id: 'end', name: 'End', type: 'end', output: '.steps.send.output' },
    ],
    edges: [
      { from: 'start', to: 'draft' }, { from: 'draft', to: 'review' }, { from: 'review', to: 'send' },
      { from: 'review', port: 'rejected', to: 'draft' }, { from: 'send', to: 'end' },
    ],
  };
  const created = await request.post('/api/v1/workflows', { headers: apiAuth(), data: { name, definition } });
  expect(created.status(), await created.text()).toBe(201);
  const wf = (await created.json()).workflow_id;
  const started = await request.post(`/api/v1/workflows/${wf}/runs`, { headers: apiAuth(), data: { input: { to: 'ACME' } } });
  expect(started.status()).toBe(202);
  const run = (await started.json()).run_id;

  const page = await signIn(browser, 'approver', baseURL!);
  const inbox = async () => {
    await page.goto('/approvals');
    await page.getByLabel('Workflow').fill(name);
  };
  // first pass: reject with what to change
  await inbox();
  await page.locator('table.approvals tbody tr').getByRole('link', { name: 'Review draft 1 for ACME' }).click();
  const decision = page.getByRole('region', { name: 'Decision' });
  await decision.getByLabel('Comment').fill('warmer please');
  await decision.getByRole('button', { name: 'Reject' }).click();
  await expect(page.getByTestId('item-status')).toHaveText('rejected');
  // second pass: the draft came round again with the comment; approve it
  await inbox();
  const second = page.locator('table.approvals tbody tr').getByRole('link', { name: 'Review draft 2 for ACME' });
  await expect(second).toBeVisible();
  await second.click();
  await expect(page.getByRole('region', { name: 'Context' })).toContainText('warmer please');
  await page.getByRole('region', { name: 'Decision' }).getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByTestId('item-status')).toHaveText('approved');

  await page.goto(`/runs/${run}`);
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  await expect(page.getByTestId('run-output')).toContainText('"sent":"draft 2 for ACME"');
  await expect(page.locator('tr[data-step="draft"] [data-testid="pass"]')).toHaveText('pass 2');
  await page.locator('tr[data-step="draft"]').getByRole('button', { name: 'Details' }).click();
  await expect(page.getByTestId('idempotency-key')).toHaveText(`${run}:draft@1`);
  await expect(page.locator('.step-panel li[data-attempt]').first()).toContainText('Attempt 1: succeeded');
  await expect(page.locator('.step-panel li[data-attempt]').nth(1)).toContainText('(pass 2): succeeded');
  await expect(page.locator('g.edge-back[data-edge="review-rejected-draft"]')).toHaveCount(1);
  await page.context().close();
});

test('a Sub-workflow step picks another workflow from a list and runs it as a child run', async ({ page, request }) => {
  const childName = `Child ${Date.now()}`;
  const definition = {
    nodes: [
      { id: 'start', name: 'Start', type: 'start' },
      { id: 'twice', name: 'Twice', type: 'transform', expression: '{doubled: (.input.n * 2)}' },
      { id: 'end', name: 'End', type: 'end', output: '.steps.twice.output' },
    ],
    edges: [{ from: 'start', to: 'twice' }, { from: 'twice', to: 'end' }],
  };
  const created = await request.post('/api/v1/workflows', { headers: apiAuth(), data: { name: childName, definition } });
  expect(created.status()).toBe(201);
  const child = (await created.json()).workflow_id;
  expect((await request.put(`/api/v1/workflows/${child}/published`, { headers: apiAuth(), data: { version: 1 } })).status()).toBe(200);

  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Parent ${Date.now()}`);
  const d = new Designer(page);
  await d.select('end');
  await page.keyboard.press('Delete');
  await d.select('start');
  await d.addByKeyboard('sub_workflow');
  await expect(d.edge('start', 'out', 'sub_workflow_1')).toHaveCount(1);
  await d.inspector.getByLabel('Workflow to run').selectOption({ label: `${childName} (published: v1)` });
  await expect(d.node('sub_workflow_1').locator('.node-summary')).toContainText(`runs ${child.slice(0, 10)}`);
  await d.select('sub_workflow_1');
  await d.addByKeyboard('end');
  await d.inspector.getByLabel('Output mapping (jq, optional)').fill('.steps.sub_workflow_1.output');
  await expect(d.root.getByText('No problems')).toBeVisible();

  await page.getByRole('button', { name: 'Run…' }).click();
  const form = page.getByRole('form', { name: 'Run workflow' });
  await form.getByLabel('Input (JSON)').fill('{"n": 21}');
  await form.getByRole('button', { name: 'Save and run' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  await expect(page.getByTestId('run-output')).toContainText('"doubled":42');
  await page.getByTestId('child-run').click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(childName);
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  await expect(page.getByTestId('parent-run')).toBeVisible();
  // in the runs list the child names the run that started it
  await page.goto('/runs');
  const row = page.locator('tr').filter({ hasText: childName }).first();
  await expect(row.getByTestId('parent-link')).toHaveText('by a parent run');
});
