import { test, expect } from '@playwright/test';
import { WorkflowsPage } from '../pages/app';

test('drag a node on the canvas, save, and find it there after reload', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  await app.create(`Drawn ${Date.now()}`);
  const end = page.locator('g[data-node="end"]');
  await expect(end).toHaveAttribute('transform', 'translate(360,120)');
  await expect(page.getByTestId('designer-version')).toHaveText('version 1');

  const box = (await end.boundingBox())!;
  await page.mouse.move(box.x + 40, box.y + 20);
  await page.mouse.down();
  await page.mouse.move(box.x + 90, box.y + 50, { steps: 5 });
  await page.mouse.move(box.x + 142, box.y + 82, { steps: 5 });
  await page.mouse.up();
  // moved by (102, 62), snapped to the 20 px grid
  await expect(end).toHaveAttribute('transform', 'translate(460,180)');
  await expect(page.getByTestId('unsaved')).toBeVisible();

  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('designer-version')).toHaveText('version 2');
  await expect(page.getByTestId('unsaved')).toBeHidden();
  await page.reload();
  await app.waitHydrated();
  await expect(page.locator('g[data-node="end"]')).toHaveAttribute('transform', 'translate(460,180)');
  // the edge follows the node
  await expect(page.locator('g[data-edge="start-out-end"] path')).toHaveAttribute('d', /460 212$/);
});
