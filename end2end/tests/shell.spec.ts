import { test, expect } from '../fixtures';
import { AppShell, WorkflowsPage } from '../pages/app';

test('the app hydrates: the New workflow button is handled by wasm', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  const form = page.getByRole('form', { name: 'New workflow' });
  await expect(form).toHaveCount(0);
  await page.getByRole('button', { name: 'New workflow' }).click();
  // only the hydrated client can open the form: the server sent it closed
  await expect(form).toBeVisible();
  await form.getByRole('button', { name: 'Cancel' }).click();
  await expect(form).toHaveCount(0);
});

test('navigation reaches every page without a full reload', async ({ page }) => {
  const app = new AppShell(page);
  await app.open('/workflows');
  await page.evaluate(() => ((window as any).__sameDocument = true));
  const pages: Array<[Parameters<AppShell['nav']>[0], RegExp, string]> = [
    ['Runs', /\/runs$/, 'Runs'],
    ['Approvals', /\/approvals$/, 'Approvals'],
    ['Audit', /\/audit$/, 'Audit trail'],
    ['Workflows', /\/workflows$/, 'Workflows'],
  ];
  for (const [link, url, heading] of pages) {
    await app.nav(link).click();
    await expect(page).toHaveURL(url);
    await expect(app.heading()).toHaveText(heading);
    await expect(app.nav(link)).toHaveAttribute('aria-current', 'page');
  }
  // client-side routing kept the same document
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test('the inbox says so when nothing waits for the signed-in person', async ({ page }) => {
  const app = new AppShell(page);
  // the admin is not among the deciders of any approval step in this suite
  await app.open('/approvals');
  await expect(page.getByRole('heading', { name: 'Nothing waits for you' })).toBeVisible();
});

test('an unknown address shows a 404 page', async ({ page }) => {
  const res = await page.goto('/no/such/page');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

test('the front end is fetched under hashed names kept for good; pages are revalidated', async ({ page }) => {
  const seen: Record<string, string | undefined> = {};
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    seen[path] = r.headers()['cache-control'];
  });
  const app = new WorkflowsPage(page);
  await app.goto();
  expect(seen['/workflows']).toBe('no-cache');
  const files = Object.keys(seen).filter((p) => p.startsWith('/pkg/'));
  // the wasm, its JS loader and the stylesheet, each named by its content
  for (const ext of ['.wasm', '.js', '.css']) {
    const file = files.find((p) => p.endsWith(ext));
    expect(file, `a ${ext} file was loaded: ${files.join(', ')}`).toMatch(new RegExp(`^/pkg/stepwise\\.[A-Za-z0-9_-]{16,}\\${ext}$`));
    expect(seen[file!]).toBe('public, max-age=31536000, immutable');
  }
});
