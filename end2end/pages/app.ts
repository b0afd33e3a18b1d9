import { expect, type Locator, type Page } from '@playwright/test';

/** The app shell: navigation and the hydration marker. */
export class AppShell {
  constructor(readonly page: Page) {}

  /** Opens `path` and waits until the wasm has taken over the page. */
  async open(path: string) {
    await this.page.goto(path);
    await this.waitHydrated();
  }

  async waitHydrated() {
    await expect(this.page.locator('.app')).toHaveAttribute('data-hydrated', 'true');
  }

  nav(name: 'Workflows' | 'Runs' | 'Approvals' | 'Audit'): Locator {
    return this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
  }

  heading(): Locator {
    return this.page.getByRole('heading', { level: 1 });
  }
}

/** The workflows list. */
export class WorkflowsPage extends AppShell {
  async goto() {
    await this.open('/workflows');
  }

  row(name: string): Locator {
    return this.page.locator('table.workflows tbody tr').filter({
      has: this.page.getByRole('link', { name, exact: true }),
    });
  }

  async create(name: string) {
    await this.page.getByRole('button', { name: 'New workflow' }).click();
    const form = this.page.getByRole('form', { name: 'New workflow' });
    await form.getByLabel('Name').fill(name);
    await form.getByRole('button', { name: 'Create' }).click();
  }
}

/** Headers for REST calls made by tests to set things up (an admin token). */
export function apiAuth(): Record<string, string> {
  return { Authorization: `Bearer ${process.env.STEPWISE_TOKEN}` };
}
