import { expect, type Locator, type Page } from '@playwright/test';

/** Presses the mouse at (x, y), moves it by (dx, dy) in small steps, releases. */
export async function dragBy(page: Page, x: number, y: number, dx: number, dy: number) {
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx / 2, y + dy / 2, { steps: 5 });
  await page.mouse.move(x + dx, y + dy, { steps: 5 });
  await page.mouse.up();
}

/** The designer on a workflow page. */
export class Designer {
  readonly root: Locator;
  readonly inspector: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByRole('region', { name: 'Designer' });
    this.inspector = page.getByRole('complementary', { name: 'Inspector' });
  }

  node(id: string): Locator {
    return this.page.locator(`g[data-node="${id}"]`);
  }

  edge(from: string, port: string, to: string): Locator {
    return this.page.locator(`g[data-edge="${from}-${port}-${to}"]`);
  }

  /** Opens the seeded example workflow's designer and selects step `id`. */
  async openExample(id: string) {
    await this.page.goto('/workflows');
    await this.page.locator('tr').filter({ hasText: 'Invoice approval' }).getByRole('link', { name: 'Invoice approval' }).click();
    await expect(this.page.locator('.app')).toHaveAttribute('data-hydrated', 'true');
    await this.select(id);
  }

  /** Clicks a step on the canvas (which also gives the designer the keyboard). */
  async select(id: string, modifiers: ('Shift' | 'Control')[] = []) {
    await this.node(id).locator('.node-kind').click({ modifiers });
  }

  /** Adds a step with the keyboard: `/`, type the kind, Enter. */
  async addByKeyboard(kind: string) {
    await this.page.keyboard.press('/');
    const search = this.page.getByRole('dialog', { name: 'Add a step' });
    await expect(search).toBeVisible();
    await this.page.keyboard.type(kind);
    await this.page.keyboard.press('Enter');
    await expect(search).toBeHidden();
  }

  /** Draws an edge by dragging from a port onto another step. */
  async connect(from: string, port: string, to: string) {
    const p = (await this.node(from).locator(`circle[data-port="${port}"]`).boundingBox())!;
    const t = (await this.node(to).locator('rect').boundingBox())!;
    await this.page.mouse.move(p.x + p.width / 2, p.y + p.height / 2);
    await this.page.mouse.down();
    await this.page.mouse.move(t.x + 50, t.y + 30, { steps: 8 });
    await this.page.mouse.up();
    await expect(this.edge(from, port, to)).toHaveCount(1);
  }

  /** Every step's id and place, as drawn. */
  /** Zooms to fit (the Fit button), so every step is in view and drawn. */
  async showAll() {
    await this.page.getByRole('button', { name: 'Fit: show the whole graph' }).click();
    await expect(this.page.locator('g.nodes > g')).toHaveCount(Number(await this.page.locator('g.nodes > g').first().getAttribute('aria-setsize')));
  }

  /** Where each drawn step is (a large graph draws the steps near the view). */
  async places(): Promise<Record<string, string>> {
    return this.page.locator('g.nodes > g').evaluateAll((gs) =>
      Object.fromEntries(gs.map((g) => [g.getAttribute('data-node'), g.getAttribute('transform')])),
    );
  }

  async edges(): Promise<string[]> {
    const list = await this.page.locator('g.edges > g').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-edge')!));
    return list.sort();
  }

  async save(version: number) {
    await this.page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(this.page.getByTestId('designer-version')).toHaveText(`version ${version}`);
    await expect(this.page.getByTestId('unsaved')).toBeHidden();
  }
}
