import { test, expect } from '../fixtures';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowsPage, apiAuth } from '../pages/app';
import { Designer, dragBy } from '../pages/designer';

async function fresh(page: any, name: string) {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`${name} ${Date.now()}`);
  const d = new Designer(page);
  await expect(d.node('end')).toBeVisible();
  return { app, d };
}

test('shift-click and box select pick several steps; they move, copy, paste and duplicate together', async ({ page }) => {
  const { d } = await fresh(page, 'Selected');
  await d.select('start');
  await d.select('end', ['Shift']);
  await expect(d.node('start')).toHaveAttribute('aria-selected', 'true');
  await expect(d.node('end')).toHaveAttribute('aria-selected', 'true');
  await expect(d.inspector).toContainText('2 steps selected');

  // dragging one moves both, and the edge between them with them
  const box = (await d.node('start').locator('rect').boundingBox())!;
  await dragBy(page, box.x + 40, box.y + 20, 40, 80);
  await expect(d.node('start')).toHaveAttribute('transform', 'translate(120,200)');
  await expect(d.node('end')).toHaveAttribute('transform', 'translate(400,200)');
  await expect(d.edge('start', 'out', 'end').locator('path')).toHaveAttribute('d', /^M 300 232 .* 400 232$/);
  // one undo puts both back
  await page.keyboard.press('Control+z');
  await expect(d.node('start')).toHaveAttribute('transform', 'translate(80,120)');
  await expect(d.node('end')).toHaveAttribute('transform', 'translate(360,120)');

  // a click on the background clears; a shift-drag box selects what it touches
  const canvas = (await page.locator('svg.canvas').boundingBox())!;
  await page.mouse.click(canvas.x + 20, canvas.y + canvas.height - 10);
  await expect(d.node('start')).toHaveAttribute('aria-selected', 'false');
  await page.keyboard.down('Shift');
  await dragBy(page, canvas.x + 60, canvas.y + 100, 380, 100);
  await page.keyboard.up('Shift');
  await expect(d.node('start')).toHaveAttribute('aria-selected', 'true');
  await expect(d.node('end')).toHaveAttribute('aria-selected', 'true');

  // copy + paste: fresh ids, the inner edge comes along, the copies are selected
  await page.keyboard.press('Control+c');
  await page.keyboard.press('Control+v');
  await expect(d.node('start_1')).toHaveAttribute('transform', 'translate(120,160)');
  await expect(d.node('end_1')).toHaveAttribute('transform', 'translate(400,160)');
  await expect(d.edge('start_1', 'out', 'end_1')).toHaveCount(1);
  await expect(d.node('start_1').locator('.node-name')).toHaveText('Start (copy)');
  await expect(d.node('start')).toHaveAttribute('aria-selected', 'false');
  // two Starts is a problem, and it says so
  await expect(page.locator('.problems-panel')).toContainText('the workflow has exactly one Start node');
  await page.keyboard.press('Control+d');
  await expect(d.node('start_2')).toBeVisible();
  await expect(page.locator('g.nodes > g')).toHaveCount(6);
  await page.keyboard.press('Delete');
  await expect(page.locator('g.nodes > g')).toHaveCount(4);

  // Alt+arrow keys nudge the selection by the grid
  await d.select('end_1');
  await page.keyboard.press('Alt+ArrowDown');
  await page.keyboard.press('Alt+Shift+ArrowRight');
  await expect(d.node('end_1')).toHaveAttribute('transform', 'translate(500,180)');
});

test('the shortcuts overlay, and auto-layout puts every step left to right', async ({ page }) => {
  const { d } = await fresh(page, 'Laid out');
  await d.select('start');
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(help).toContainText('Ctrl+Shift+Z');
  await help.getByRole('button', { name: 'Close' }).click();
  await expect(help).toBeHidden();
  // nothing selected: the palette adds steps unconnected, right of the graph
  await d.select('start');
  await page.keyboard.press('Escape');

  await page.getByRole('button', { name: '+ delay' }).click();
  await page.getByRole('button', { name: '+ fail' }).click();
  await d.connect('start', 'out', 'delay_1');
  await d.select('end');
  await page.keyboard.press('Shift+L');
  const places = await d.places();
  const x = (id: string) => Number(places[id].match(/translate\(([-\d.]+),/)![1]);
  expect(x('start')).toBeLessThan(x('end'));
  expect(x('end')).toBe(x('delay_1'));
  expect(places['end']).not.toEqual(places['delay_1']);
  await page.keyboard.press('Control+z');
  await expect(d.node('delay_1')).not.toHaveAttribute('transform', places['delay_1']);
});

test('an earlier version opens read-only and shows what changed', async ({ page }) => {
  const { d } = await fresh(page, 'Versioned');
  await page.getByRole('button', { name: '+ transform' }).click();
  await d.connect('start', 'out', 'transform_1');
  await d.inspector.getByLabel('Name').fill('Enrich');
  await d.inspector.getByLabel('Name').press('Enter');
  await d.save(2);
  await d.select('end');
  await d.inspector.getByLabel('Name').fill('Finish');
  await d.inspector.getByLabel('Name').press('Enter');

  const versions = page.locator('details.versions');
  await versions.locator('summary').click();
  await expect(versions.locator('tr[data-version="2"]')).toContainText('latest');
  await versions.locator('tr[data-version="1"]').getByRole('button', { name: 'Open read-only' }).click();
  const banner = page.getByRole('status', { name: 'Viewing an earlier version' });
  await expect(banner).toContainText('Version 1 (read-only)');
  await expect(banner).toContainText('Added since: Enrich');
  await expect(banner).toContainText('Changed since: Finish');
  await expect(d.node('transform_1')).toHaveCount(0);
  await expect(d.node('end')).toHaveClass(/diff-changed/);
  // nothing can be changed while looking
  await d.select('end');
  await expect(d.inspector.getByLabel('Name')).toBeDisabled();
  await page.keyboard.press('Delete');
  await expect(d.node('end')).toHaveCount(1);
  await expect(page.getByRole('button', { name: '+ transform' })).toBeDisabled();

  await banner.getByRole('button', { name: 'Back to editing' }).click();
  await expect(d.node('transform_1')).toBeVisible();
  await expect(d.node('end').locator('.node-name')).toHaveText('Finish');
  await expect(page.getByTestId('unsaved')).toBeVisible();
});

test('import: a broken file changes nothing; an exported file comes back as it was', async ({ page }) => {
  const { d } = await fresh(page, 'Imported');
  const dir = mkdtempSync(path.join(tmpdir(), 'stepwise-import-'));
  const broken = path.join(dir, 'broken.json');
  writeFileSync(broken, '{"nodes": [{"id": "a", "type": "teleport"}], "edges": []}');
  const before = await d.places();
  await page.getByLabel('Import a workflow file').setInputFiles(broken);
  await expect(d.root.getByRole('alert')).toContainText('Could not import broken.json: the file is not a Stepwise workflow');
  await expect(d.root.getByRole('alert')).toContainText('Nothing was changed');
  expect(await d.places()).toEqual(before);
  await expect(page.getByTestId('unsaved')).toBeHidden();

  // export, change the graph, import the export: back to what was exported
  await page.getByRole('button', { name: '+ http' }).click();
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export' }).click();
  const exported = await (await download).path();
  const withHttp = await d.places();
  await page.keyboard.press('Delete');
  await expect(d.node('http_1')).toHaveCount(0);
  await page.getByLabel('Import a workflow file').setInputFiles(exported!);
  await expect(d.root.getByRole('status').filter({ hasText: 'Imported' })).toContainText('3 steps');
  expect(await d.places()).toEqual(withHttp);
  // and the import can be undone
  await d.select('start');
  await page.keyboard.press('Control+z');
  await expect(d.node('http_1')).toHaveCount(0);
});

test('leaving with unsaved changes asks first', async ({ page }) => {
  const { app, d } = await fresh(page, 'Unsaved');
  await page.getByRole('button', { name: '+ join' }).click();
  await expect(page.getByTestId('unsaved')).toBeVisible();

  page.once('dialog', (dialog) => dialog.dismiss());
  await app.nav('Runs').click();
  await expect(d.node('join_1')).toBeVisible();
  await expect(page).toHaveURL(/\/workflows\//);

  page.once('dialog', (dialog) => {
    expect(dialog.message()).toContain('unsaved changes');
    return dialog.accept();
  });
  await app.nav('Runs').click();
  await expect(page).toHaveURL(/\/runs$/);
});

test('a large graph has a minimap that moves the view', async ({ page, request }) => {
  const kind = (i: number) =>
    i === 0 ? { type: 'start' } : i === 47 ? { type: 'end' } : { type: 'delay', duration_ms: 1000 };
  const nodes = Array.from({ length: 48 }, (_, i) => ({
    id: `n${i}`, name: `Step ${i}`, ...kind(i), position: { x: 40 + (i % 8) * 260, y: 40 + Math.floor(i / 8) * 200 },
  }));
  const edges = nodes.slice(1).map((n, i) => ({ from: `n${i}`, to: n.id }));
  const res = await request.post('/api/v1/workflows', {
    headers: apiAuth(),
    data: { name: `Large ${Date.now()}`, definition: { nodes, edges } },
  });
  expect(res.status()).toBe(201);
  const { workflow_id } = await res.json();
  const app = new WorkflowsPage(page);
  await app.open(`/workflows/${workflow_id}`);
  const minimap = page.getByRole('img', { name: 'Minimap' });
  await expect(minimap).toBeVisible();
  const wrap = page.locator('.canvas-wrap');
  expect(await wrap.evaluate((el) => el.scrollLeft)).toBe(0);
  const m = (await minimap.boundingBox())!;
  await minimap.click({ position: { x: m.width - 4, y: m.height - 4 } });
  // the bottom-right corner of the graph comes into view, as far as it scrolls
  const end = await wrap.evaluate((el) => [el.scrollWidth - el.clientWidth, el.scrollHeight - el.clientHeight]);
  expect(end[1]).toBeGreaterThan(100);
  await expect.poll(() => wrap.evaluate((el) => [el.scrollLeft, el.scrollTop])).toEqual(end);
  await expect(page.locator('g[data-node="n47"]')).toBeInViewport();
  // and back to the top-left corner
  await minimap.click({ position: { x: 4, y: 4 } });
  await expect.poll(() => wrap.evaluate((el) => [el.scrollLeft, el.scrollTop])).toEqual([0, 0]);
  // dragging the background pans
  await page.locator('.canvas-wrap').scrollIntoViewIfNeeded();
  const canvas = (await page.locator('svg.canvas').boundingBox())!;
  // between the steps (columns every 156 px, rows every 120 px at 60%)
  await dragBy(page, canvas.x + 150, canvas.y + 330, 0, -150);
  await expect.poll(() => wrap.evaluate((el) => el.scrollTop)).toBe(150);
});

test('opening the inspector scrolls the canvas so it never hides the selected step', async ({ page, request }) => {
  // a step near the right edge of the canvas, where the inspector will be
  const res = await request.post('/api/v1/workflows', {
    headers: apiAuth(),
    data: {
      name: `Right edge ${Date.now()}`,
      definition: {
        nodes: [
          { id: 'start', name: 'Start', type: 'start', position: { x: 40, y: 60 } },
          { id: 'far', name: 'Far right', type: 'end', position: { x: 900, y: 60 } },
        ],
        edges: [{ from: 'start', to: 'far' }],
      },
    },
  });
  expect(res.status()).toBe(201);
  const { workflow_id } = await res.json();
  const app = new WorkflowsPage(page);
  await app.open(`/workflows/${workflow_id}`);
  const d = new Designer(page);
  await expect(page.getByTestId('zoom')).toHaveText('100%');
  await expect(d.inspector).toHaveCount(0);
  await expect(d.node('far')).toBeInViewport({ ratio: 1 });
  await d.select('far');
  await expect(d.inspector).toBeVisible();
  // the canvas narrowed by the panel's width and scrolled: the whole card shows
  await expect(d.node('far')).toBeInViewport({ ratio: 1 });
  expect(await page.locator('.canvas-wrap').evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
});

test('a large graph draws the steps near the view, and the others as the view scrolls to them', async ({ page, request }) => {
  const n = 400;
  const nodes = Array.from({ length: n }, (_, i) => ({
    id: `n${i}`, name: `Step ${i}`,
    ...(i === 0 ? { type: 'start' } : i === n - 1 ? { type: 'end' } : { type: 'delay', duration_ms: 1000 }),
    position: { x: 40 + (i % 20) * 240, y: 40 + Math.floor(i / 20) * 120 },
  }));
  const edges = nodes.slice(1).map((node, i) => ({ from: `n${i}`, to: node.id }));
  const res = await request.post('/api/v1/workflows', { headers: apiAuth(), data: { name: `Culled ${Date.now()}`, definition: { nodes, edges } } });
  expect(res.status()).toBe(201);
  const { workflow_id } = await res.json();
  const app = new WorkflowsPage(page);
  await app.open(`/workflows/${workflow_id}`);
  const drawn = page.locator('g.nodes > g');
  await expect(page.locator('g[data-node="n0"]')).toBeVisible();
  // each drawn card says where it is among all the steps
  await expect(page.locator('g[data-node="n0"]')).toHaveAttribute('aria-setsize', String(n));
  await expect(page.locator('g[data-node="n0"]')).toHaveAttribute('aria-posinset', '1');
  const first = await drawn.count();
  expect(first).toBeLessThan(n / 2);
  await expect(page.locator(`g[data-node="n${n - 1}"]`)).toHaveCount(0);
  // scrolled to the far corner: the last step is drawn, the first is not
  await page.locator('.canvas-wrap').evaluate((el) => { el.scrollIntoView({ block: 'end' }); el.scrollTo(el.scrollWidth, el.scrollHeight); });
  await expect(page.locator(`g[data-node="n${n - 1}"]`)).toBeInViewport();
  await expect(page.locator('g[data-node="n0"]')).toHaveCount(0);
  expect(await drawn.count()).toBeLessThan(n / 2);
  // a connection between two steps out of view is not drawn; one in view is
  await expect(page.locator('g.edges > g[data-edge="n0-out-n1"]')).toHaveCount(0);
  await expect(page.locator(`g.edges > g[data-edge="n${n - 2}-out-n${n - 1}"]`)).toHaveCount(1);
  // the selected step stays drawn (and focusable) when the view leaves it
  await page.locator(`g[data-node="n${n - 1}"] .node-kind`).click();
  await page.keyboard.press('ArrowLeft');
  await expect(page.locator(`g[data-node="n${n - 2}"]`)).toBeFocused();
  await page.locator('.canvas-wrap').evaluate((el) => el.scrollTo(0, 0));
  await expect(page.locator('g[data-node="n0"]')).toBeVisible();
  await expect(page.locator(`g[data-node="n${n - 2}"]`)).toHaveCount(1);
  await expect(page.locator(`g[data-node="n${n - 1}"]`)).toHaveCount(0);
});

test('a broken connection is outlined; the draft saves but cannot run', async ({ page }) => {
  const { app, d } = await fresh(page, 'Draft');
  await d.select('end');
  await page.keyboard.press('Delete');
  await d.select('start');
  await d.addByKeyboard('branch');
  await d.addByKeyboard('end');
  await expect(d.edge('branch_1', 'yes', 'end_1')).toHaveCount(1);
  await expect(d.edge('branch_1', 'yes', 'end_1')).not.toHaveClass(/has-problem/);

  // renaming the condition leaves the edge on a port that no longer exists
  await d.select('branch_1');
  const label = d.inspector.locator('fieldset.condition').getByLabel('Label (port)');
  await label.fill('approved');
  await label.press('Tab');
  await expect(d.edge('branch_1', 'yes', 'end_1')).toHaveClass(/has-problem/);
  await expect(page.locator('.problems-panel')).toContainText("has no port 'yes'");

  // the badge follows the canvas, and saving says what was saved
  const count = (await page.locator('.problems-panel h3').textContent())!;
  expect(count).toMatch(/^\d+ problems?$/);
  await expect(page.getByTestId('runnable')).toHaveText(count);
  await d.save(2);
  await expect(page.getByTestId('designer-note')).toHaveText(`Saved version 2 as a draft with ${count}: it cannot run until they are fixed.`);
  await page.reload();
  await app.waitHydrated();
  await expect(d.edge('branch_1', 'yes', 'end_1')).toHaveClass(/has-problem/);
  await expect(page.getByTestId('runnable')).toHaveText(count);
  await page.getByRole('button', { name: 'Run…' }).click();
  await expect(page.getByRole('form', { name: 'Run workflow' }).getByRole('button', { name: 'Run version 2' })).toBeDisabled();
  await expect(page.getByRole('form', { name: 'Run workflow' })).toContainText(`has ${count}; fix`);
});

test('with nothing selected the inspector edits the workflow settings; they are checked and saved', async ({ page, request }) => {
  const { d } = await fresh(page, 'Settings');
  // the canvas has the room until the settings are asked for
  await expect(d.inspector).toHaveCount(0);
  await page.getByRole('button', { name: 'Workflow settings' }).click();
  await expect(d.inspector).toContainText('Workflow settings');
  await d.inspector.getByLabel('Confidence threshold (0–1, empty = none)').fill('0.85');
  await d.inspector.getByLabel('Confidence threshold (0–1, empty = none)').press('Tab');
  const roles = d.inspector.getByLabel('Roles that check low confidence (comma-separated)');
  await roles.fill('approver, editor');
  await roles.press('Tab');
  // editors may not decide: the problems panel says so
  await expect(d.root).toContainText('the role editor may not decide approvals; deciders are the roles admin or approver, or named users');
  // the problem leads back to the settings
  await page.getByRole('button', { name: 'Close' }).click();
  await expect(d.inspector).toHaveCount(0);
  await d.root.getByRole('button', { name: /the role editor may not decide/ }).click();
  await roles.fill('approver');
  await roles.press('Tab');
  await expect(d.root).not.toContainText('may not decide approvals');
  const people = d.inspector.getByLabel('People who check low confidence (user names, comma-separated)');
  await people.fill('approver2');
  await people.press('Tab');
  await d.inspector.getByLabel('Run timeout (ms, empty = none)').fill('600000');
  await d.inspector.getByLabel('Run timeout (ms, empty = none)').press('Tab');
  await d.save(2);

  await page.reload();
  await expect(d.node('end')).toBeVisible();
  await page.getByRole('button', { name: 'Workflow settings' }).click();
  await expect(d.inspector.getByLabel('Confidence threshold (0–1, empty = none)')).toHaveValue('0.85');
  await expect(d.inspector.getByLabel('Roles that check low confidence (comma-separated)')).toHaveValue('approver');
  await expect(d.inspector.getByLabel('People who check low confidence (user names, comma-separated)')).toHaveValue('approver2');
  await expect(d.inspector.getByLabel('Run timeout (ms, empty = none)')).toHaveValue('600000');
  const id = page.url().split('/').pop();
  const res = await request.get(`/api/v1/workflows/${id}`, { headers: apiAuth() });
  const settings = (await res.json()).definition.settings;
  expect(settings).toEqual({ confidence_threshold: 0.85, run_timeout_ms: 600000, gate_reviewers: { roles: ['approver'], users: ['approver2'] } });
});

test('edit without saving and test-run the working copy: the changed URL is the one called', async ({ page, request, baseURL }) => {
  const definition = {
    nodes: [
      { id: 'start', name: 'Start', type: 'start', position: { x: 40, y: 100 } },
      { id: 'post', name: 'Post', type: 'http', method: 'POST', url: `${baseURL}/demo/nowhere`, body: '{"amount": 7}', position: { x: 300, y: 100 } },
      { id: 'end', name: 'End', type: 'end', output: '.steps.post.output.body', position: { x: 560, y: 100 } },
    ],
    edges: [{ from: 'start', to: 'post' }, { from: 'post', to: 'end' }],
  };
  const res = await request.post('/api/v1/workflows', { headers: apiAuth(), data: { name: `Test run ${Date.now()}`, definition } });
  expect(res.status(), await res.text()).toBe(201);
  const id = (await res.json()).workflow_id;
  const app = new WorkflowsPage(page);
  await page.goto(`/workflows/${id}`);
  await app.waitHydrated();
  const d = new Designer(page);
  await d.select('post');
  await d.inspector.getByLabel('URL (template)').fill(`${baseURL}/demo/ledger/entries`);
  await d.inspector.getByLabel('URL (template)').press('Tab');
  await expect(page.getByTestId('unsaved')).toBeVisible();

  await page.getByRole('button', { name: 'Run…' }).click();
  const form = page.getByRole('form', { name: 'Run workflow' });
  await expect(form).toContainText('The canvas has unsaved changes.');
  await expect(form.getByRole('button', { name: /^Run version/ })).toHaveCount(0);
  await form.getByRole('button', { name: 'Test run (unsaved)' }).click();
  await expect(page).toHaveURL(/\/runs\/run_/);
  await expect(page.getByTestId('test-run')).toBeVisible();
  await expect(page.getByTestId('run-status')).toHaveText('succeeded', { timeout: 15_000 });
  // the stand-in ledger answered: the edited URL was called, not /demo/nowhere
  await expect(page.getByTestId('run-output')).toContainText('"entry":{"amount":7}');
  // nothing was saved: the workflow is still at version 1
  const versions = await request.get(`/api/v1/workflows/${id}/versions`, { headers: apiAuth() });
  expect(((await versions.json()) as any[]).map((v) => v.version)).toEqual([1]);
  // the runs list can leave test runs out of its figures
  const testRun = page.url().split('/').pop()!;
  await app.nav('Runs').click();
  await expect(page.locator(`tr[data-run="${testRun}"]`)).toBeVisible();
  await page.getByRole('group', { name: 'Filters' }).getByLabel('Test runs').selectOption('left out');
  await expect(page.locator(`tr[data-run="${testRun}"]`)).toHaveCount(0);
  await page.getByRole('group', { name: 'Filters' }).getByLabel('Test runs').selectOption('only');
  await expect(page.locator(`tr[data-run="${testRun}"]`)).toBeVisible();
  // every run listed then is a test run
  await expect(page.locator('table.runs tbody tr:not(:has(.badge.test))')).toHaveCount(0);
});

test('a field picked from the data panel goes into a Branch condition', async ({ page, request }) => {
  // a workflow that ran once: the panel shows what its steps produced
  const definition = {
    nodes: [
      { id: 'start', name: 'Start', type: 'start', position: { x: 40, y: 100 } },
      { id: 'extract', name: 'Extract', type: 'transform', expression: '{amount: .input.amount, vendor: .input.vendor}', position: { x: 300, y: 100 } },
      { id: 'route', name: 'Route', type: 'branch', conditions: [{ label: 'large', expression: 'true' }], position: { x: 560, y: 100 } },
      { id: 'big', name: 'Big', type: 'end', position: { x: 820, y: 40 } },
      { id: 'small', name: 'Small', type: 'end', position: { x: 820, y: 180 } },
    ],
    edges: [
      { from: 'start', to: 'extract' }, { from: 'extract', to: 'route' },
      { from: 'route', port: 'large', to: 'big' }, { from: 'route', port: 'default', to: 'small' },
    ],
  };
  const res = await request.post('/api/v1/workflows', { headers: apiAuth(), data: { name: `Data ${Date.now()}`, definition } });
  expect(res.status(), await res.text()).toBe(201);
  const id = (await res.json()).workflow_id;
  const run = await request.post(`/api/v1/workflows/${id}/runs`, { headers: apiAuth(), data: { input: { amount: 5300, vendor: 'ACME' } } });
  expect(run.status()).toBe(202);
  await expect.poll(async () => (await (await request.get(`/api/v1/runs/${(await run.json()).run_id}`, { headers: apiAuth() })).json()).status).toBe('succeeded');

  await page.goto(`/workflows/${id}`);
  await new WorkflowsPage(page).waitHydrated();
  const d = new Designer(page);
  await d.select('route');
  const panel = d.inspector.locator('.data-panel');
  await expect(panel).toContainText('From the newest run');
  await expect(panel).toContainText('Extract (extract)');
  await expect(panel.locator('li').filter({ hasText: '.steps.extract.output.amount' })).toContainText('5300');
  const when = d.inspector.locator('fieldset.condition').getByLabel('When (jq)');
  await when.fill('');
  await when.focus();
  await panel.getByRole('button', { name: '.steps.extract.output.amount' }).click();
  await expect(when).toHaveValue('.steps.extract.output.amount');
  await when.press('End');
  await when.pressSequentially(' > 1000');
  await expect(when).toHaveValue('.steps.extract.output.amount > 1000');
  await when.press('Tab');
  // the step itself changed: the canvas shows it and the workflow is valid
  await expect(page.getByTestId('unsaved')).toBeVisible();
  await expect(d.root.getByText('No problems')).toBeVisible();
  await d.save(2);
  const saved = await request.get(`/api/v1/workflows/${id}`, { headers: apiAuth() });
  const route = ((await saved.json()).definition.nodes as any[]).find((n) => n.id === 'route');
  expect(route.conditions[0].expression).toBe('.steps.extract.output.amount > 1000');

  // autocomplete: typing a path offers what the step can read
  await when.fill('');
  await when.pressSequentially('.steps.ex');
  const list = page.getByRole('listbox', { name: 'Suggestions' });
  await expect(list.getByRole('option').first()).toHaveText('.steps.extract.output');
  await when.pressSequentially('tract.output.v');
  await expect(list.getByRole('option')).toHaveText(['.steps.extract.output.vendor']);
  await when.press('Enter');
  await expect(when).toHaveValue('.steps.extract.output.vendor');
  await expect(list).toHaveCount(0);
});

test('Test step on an Http step: it asks before a POST, then shows what came back', async ({ page, request }) => {
  const runs = async () => ((await (await request.get('/api/v1/runs', { headers: apiAuth() })).json()).counts as [string, number][]).reduce((a, [, n]) => a + n, 0);
  const before = await runs();
  const d = new Designer(page);
  await d.openExample('post_ledger');
  const panel = d.inspector.locator('details.test-step');
  await panel.locator('summary').click();
  await panel.getByLabel('Sample data (input and earlier steps\' outputs)').fill(
    '{"input": {}, "steps": {"extract": {"output": {"vendor": "ACME", "amount": 10, "currency": "EUR"}}}}',
  );
  await panel.getByRole('button', { name: 'Test step' }).click();
  const ask = panel.getByRole('alertdialog', { name: 'Send it?' });
  await expect(ask).toContainText('this sends a POST to http://127.0.0.1:');
  await ask.getByRole('button', { name: 'Send it' }).click();
  const result = panel.getByTestId('test-result');
  await expect(result).toContainText("leaving by 'out'");
  await expect(result.getByRole('table', { name: 'Test output' }).locator('tr[data-key="status"]')).toContainText('200');
  await expect(result).toContainText('"amount":10');
  // no run was started by the test
  expect(await runs()).toBe(before);
});
