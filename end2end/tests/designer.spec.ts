import { test, expect } from '../fixtures';
import { WorkflowsPage } from '../pages/app';
import { dragBy } from '../pages/designer';

test('drag a node on the canvas, save, and find it there after reload', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Drawn ${Date.now()}`);
  const end = page.locator('g[data-node="end"]');
  await expect(end).toHaveAttribute('transform', 'translate(360,120)');
  await expect(page.getByTestId('designer-version')).toHaveText('version 1');

  const box = (await end.boundingBox())!;
  // while the pointer is down, the step (and its connection) shows where it will land
  await page.mouse.move(box.x + 40, box.y + 20);
  await page.mouse.down();
  await page.mouse.move(box.x + 40 + 102, box.y + 20 + 62, { steps: 8 });
  const moving = page.locator('svg.drag-layer g.node');
  await expect(moving).toHaveCount(1);
  await expect(moving).toHaveAttribute('transform', 'translate(460,180)');
  await expect(page.locator('svg.drag-layer g.edge path')).toHaveAttribute('d', /460 212$/);
  await expect(end).toBeHidden();
  // where it shows, within the canvas (and the canvas does not move when
  // the first edit marks the workflow unsaved)
  const within = async (l: any) => {
    const [b, c] = [(await l.boundingBox())!, (await page.locator('.canvas-wrap').boundingBox())!];
    return { x: b.x - c.x, y: b.y - c.y, width: b.width, height: b.height, canvasTop: c.y };
  };
  const shown = await within(moving);
  await page.mouse.up();
  // moved by (102, 62), snapped to the 20 px grid: where it was shown
  await expect(end).toHaveAttribute('transform', 'translate(460,180)');
  await expect(page.locator('svg.drag-layer')).toHaveCount(0);
  expect(await within(end)).toEqual(shown);
  await expect(page.getByTestId('unsaved')).toBeVisible();

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByTestId('designer-version')).toHaveText('version 2');
  await expect(page.getByTestId('unsaved')).toBeHidden();
  await page.reload();
  await app.waitHydrated();
  await expect(page.locator('g[data-node="end"]')).toHaveAttribute('transform', 'translate(460,180)');
  // the edge follows the node
  await expect(page.locator('g[data-edge="start-out-end"] path')).toHaveAttribute('d', /460 212$/);
});

test('add from the palette, undo and redo, select and delete with the keyboard', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Edited ${Date.now()}`);
  const nodes = page.locator('g.nodes > g');
  await expect(nodes).toHaveCount(2);

  await page.getByRole('button', { name: '+ transform' }).click();
  const added = page.locator('g[data-node="transform_1"]');
  await expect(added).toBeVisible();
  await expect(added).toHaveAttribute('aria-selected', 'true');
  // a new step is connected to nothing: the problems panel says so and the node is outlined
  await expect(page.getByRole('region', { name: 'Designer' })).toContainText('no path from Start reaches this node');
  await expect(added).toHaveClass(/has-problem/);

  await page.keyboard.press('Control+z');
  await expect(added).toHaveCount(0);
  await expect(page.getByText('No problems')).toBeVisible();
  await page.keyboard.press('Control+Shift+z');
  await expect(added).toBeVisible();

  // select End and delete it: its edge goes too
  await page.locator('g[data-node="end"]').click();
  await page.keyboard.press('Delete');
  await expect(page.locator('g[data-node="end"]')).toHaveCount(0);
  await expect(page.locator('g[data-edge="start-out-end"]')).toHaveCount(0);
  await page.keyboard.press('Control+z');
  await expect(page.locator('g[data-node="end"]')).toBeVisible();
  await expect(page.locator('g[data-edge="start-out-end"]')).toHaveCount(1);
});

test('connect two steps by dragging from a port', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Wired ${Date.now()}`);
  await page.getByRole('button', { name: '+ transform' }).click();
  const target = page.locator('g[data-node="transform_1"]');
  await expect(target).toBeVisible();

  const port = page.locator('g[data-node="start"] circle[data-port="out"]');
  const from = (await port.boundingBox())!;
  const to = (await target.locator('rect').boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + 40, to.y + 30, { steps: 8 });
  await expect(page.locator('path.connecting')).toBeVisible();
  await page.mouse.up();

  await expect(page.locator('g[data-edge="start-out-transform_1"]')).toHaveCount(1);
  await expect(page.locator('path.connecting')).toHaveCount(0);
  // the new step is reachable now; what is left is that nothing follows it
  const designer = page.getByRole('region', { name: 'Designer' });
  await expect(designer).not.toContainText('no path from Start reaches this node');
  await expect(designer).toContainText('nothing follows this step');
});

test('the inspector edits a step and checks its expression as you type', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Inspected ${Date.now()}`);
  await page.getByRole('button', { name: '+ transform' }).click();
  const inspector = page.getByRole('complementary', { name: 'Inspector' });
  await expect(inspector).toContainText('transform_1');

  const expression = inspector.getByLabel('Expression (jq)');
  await expression.fill('{total: .input.amount * }');
  await expect(inspector.getByRole('alert')).toContainText('expected');
  await expect(page.getByRole('region', { name: 'Designer' })).toContainText('expression:');
  await expression.fill('{total: (.input.amount * 2)}');
  await expect(inspector.getByRole('alert')).toHaveCount(0);
  await expect(page.locator('g[data-node="transform_1"] .node-summary')).toContainText('{total:');

  const name = inspector.getByLabel('Name');
  await name.fill('Double the amount');
  await name.press('Enter');
  await name.blur();
  await expect(page.locator('g[data-node="transform_1"] .node-name')).toHaveText('Double the amount');

  // typing, key by key, into one step is undone in one go (not per key)
  await expression.pressSequentially(' | .total');
  await expect(expression).toHaveValue('{total: (.input.amount * 2)} | .total');
  await page.locator('g[data-node="transform_1"] .node-kind').click();
  await page.keyboard.press('Control+z');
  await expect(page.locator('g[data-node="transform_1"] .node-name')).toHaveText('New transform');
  await expect(page.locator('g[data-node="transform_1"] .node-summary')).toHaveText('.input');
  await page.keyboard.press('Control+z');
  await expect(page.locator('g[data-node="transform_1"]')).toHaveCount(0);
});

test('a problem selects its step, Ctrl+S saves, Export downloads the JSON', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  const name = `Shortcuts ${Date.now()}`;
  await app.create(name);
  await page.getByRole('button', { name: '+ delay' }).click();
  await page.locator('g[data-node="end"]').click();
  await expect(page.locator('g[data-node="delay_1"]')).toHaveAttribute('aria-selected', 'false');

  await page.getByRole('button', { name: /no path from Start reaches this node/ }).click();
  await expect(page.locator('g[data-node="delay_1"]')).toHaveAttribute('aria-selected', 'true');

  await page.getByRole('region', { name: 'Designer' }).focus();
  await page.keyboard.press('Control+s');
  await expect(page.getByTestId('designer-version')).toHaveText('version 2');
  await expect(page.getByTestId('unsaved')).toBeHidden();

  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^Shortcuts_\d+\.json$/);
  const path = await file.path();
  const json = JSON.parse(require('node:fs').readFileSync(path, 'utf8'));
  expect(json.nodes.map((n: any) => n.id)).toEqual(['start', 'end', 'delay_1']);
});

test('zoom keeps positions consistent: a drag at 200% moves half as far in the graph', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Zoomed ${Date.now()}`);
  const zoom = page.getByRole('toolbar', { name: 'Zoom' });
  const end = page.locator('g[data-node="end"]');
  const before = (await end.boundingBox())!;
  await zoom.getByRole('button', { name: 'Zoom in' }).click();
  await zoom.getByRole('button', { name: 'Zoom in' }).click();
  await zoom.getByRole('button', { name: 'Zoom in' }).click();
  await zoom.getByRole('button', { name: 'Zoom in' }).click();
  await expect(zoom.getByTestId('zoom')).toHaveText('200%');
  const after = (await end.boundingBox())!;
  expect(after.width).toBeCloseTo(before.width * 2, 0);
  // the node's place in the graph did not change
  await expect(end).toHaveAttribute('transform', 'translate(360,120)');

  // far enough to pass over the inspector that opens on the right: the
  // canvas keeps the pointer until it is released
  await dragBy(page, after.x + 20, after.y + 20, 160, 80);
  // 160 x 80 screen pixels at 200% = 80 x 40 in the graph
  await expect(end).toHaveAttribute('transform', 'translate(440,160)');

  await zoom.getByRole('button', { name: 'Show the whole graph' }).click();
  await expect(zoom.getByTestId('zoom')).toHaveText('100%');
});
