import { expect, type APIRequestContext, type Browser, type Locator, type Page } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { PASSWORD } from '../server';

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

/** A fresh browser context signed in as `username` (password of the suite's users). */
export async function signIn(browser: Browser, username: string, baseURL: string): Promise<Page> {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] }, baseURL });
  const page = await context.newPage();
  await page.goto('/login');
  await new AppShell(page).waitHydrated();
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/workflows$/);
  await new AppShell(page).waitHydrated();
  return page;
}

/** POSTs `body` to `url`, signed as a webhook sender holding `key` would. */
export async function signedPost(request: APIRequestContext, url: string, key: string, body: string) {
  const t = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', key).update(`${t}.${body}`).digest('hex');
  return request.post(url, {
    headers: { 'content-type': 'application/json', 'x-stepwise-signature': `t=${t},v1=${sig}` },
    data: body,
  });
}
