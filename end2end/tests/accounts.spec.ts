import { test, expect } from '../fixtures';
import { AppShell, WorkflowsPage, signIn } from '../pages/app';
import { startServer } from '../server';

const signedOut = { cookies: [], origins: [] };

test('a new instance asks for its owner; sign out and back in', async ({ browser }) => {
  const server = await startServer();
  try {
    const context = await browser.newContext({ storageState: signedOut, baseURL: server.url });
    const page = await context.newPage();
    const shell = new AppShell(page);
    await page.goto('/workflows');
    await expect(page).toHaveURL(/\/setup$/);
    await shell.waitHydrated();
    const form = page.getByRole('form', { name: 'Create the owner account' });
    await form.getByLabel('Username').fill('olivia');
    await form.getByLabel('Display name').fill('Olivia Owner');
    await form.getByLabel('Password').fill('short');
    await form.getByRole('button', { name: 'Create and sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('at least 10 characters');
    await form.getByLabel('Password').fill('a long enough password');
    await form.getByRole('button', { name: 'Create and sign in' }).click();
    await expect(page).toHaveURL(/\/workflows$/);
    await shell.waitHydrated();
    await expect(page.getByTestId('me')).toContainText('Olivia Owner');
    await expect(page.getByTestId('me')).toContainText('admin');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/runs');
    await expect(page).toHaveURL(/\/login\?next=%2Fruns$/);
    await shell.waitHydrated();
    const login = page.getByRole('form', { name: 'Sign in' });
    await login.getByLabel('Username').fill('olivia');
    await login.getByLabel('Password').fill('wrong password!');
    await login.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('wrong username or password');
    await login.getByLabel('Password').fill('a long enough password');
    await login.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/runs$/);
    // the owner exists now: setup is refused
    await page.goto('/setup');
    await shell.waitHydrated();
    const again = page.getByRole('form', { name: 'Create the owner account' });
    await again.getByLabel('Username').fill('mallory');
    await again.getByLabel('Password').fill('another long password');
    await again.getByRole('button', { name: 'Create and sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('already has its owner');
    await context.close();
  } finally {
    await server.stop();
  }
});

test('a viewer sees everything and can change nothing', async ({ browser, baseURL }) => {
  const page = await signIn(browser, 'viewer', baseURL!);
  await expect(page.getByTestId('me')).toContainText('viewer');
  await expect(page.getByRole('button', { name: 'New workflow' })).toHaveCount(0);
  const row = new WorkflowsPage(page).row('Invoice approval');
  await expect(row).toBeVisible();
  await expect(row.getByRole('button', { name: 'Rename' })).toHaveCount(0);
  await row.getByRole('link', { name: 'Invoice approval' }).click();
  await expect(page.locator('g[data-node="approve"]')).toBeVisible();
  await expect(page.getByRole('button', { name: '+ transform' })).toBeDisabled();
  await expect(page.getByRole('form', { name: 'Run workflow' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Run…' })).toHaveCount(0);
  await page.locator('g[data-node="approve"] .node-kind').click();
  await expect(page.getByRole('complementary', { name: 'Inspector' })).toContainText('your role may not change workflows');
  // and the server refuses even when asked directly
  const status = await page.evaluate(async () => {
    const res = await fetch('/rpc/create_workflow', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=sneaky',
    });
    return res.status;
  });
  expect(status).toBe(403);
  await expect(page.getByRole('link', { name: 'Settings' })).toHaveCount(0);
  await page.context().close();
});

test('an admin adds a user, hands out an API token once, and keeps a secret', async ({ page, request }) => {
  await page.goto('/settings');
  await new AppShell(page).waitHydrated();
  const users = page.getByRole('region', { name: 'Users' });
  const name = `u${Date.now()}`;
  const form = users.getByRole('form', { name: 'New user' });
  await form.getByLabel('Username').fill(name);
  await form.getByLabel('Password').fill('a fine password');
  await form.getByLabel('Role').selectOption('editor');
  await form.getByRole('button', { name: 'Add user' }).click();
  const row = users.locator(`tr[data-user="${name}"]`);
  await expect(row).toContainText('active');
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row).toContainText('disabled');

  const tokens = page.getByRole('region', { name: 'API tokens' });
  await tokens.getByLabel('Name').fill('ledger sync');
  await tokens.getByLabel('Role').selectOption('viewer');
  await tokens.getByRole('button', { name: 'Create token' }).click();
  const secret = (await tokens.getByTestId('new-token').textContent())!;
  expect(secret).toMatch(/^swt_[0-9a-f]{64}$/);
  const res = await request.get('/api/v1/workflows', { headers: { Authorization: `Bearer ${secret}` } });
  expect(res.status()).toBe(200);
  await expect(tokens.locator('tr[data-token="ledger sync"]')).toContainText('viewer');
  await page.reload();
  await new AppShell(page).waitHydrated();
  await expect(page.getByTestId('new-token')).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);
  await page.getByRole('region', { name: 'API tokens' }).locator('tr[data-token="ledger sync"]').getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByRole('region', { name: 'API tokens' }).locator('tr[data-token="ledger sync"]')).toContainText('revoked');
  const after = await request.get('/api/v1/workflows', { headers: { Authorization: `Bearer ${secret}` } });
  expect(after.status()).toBe(401);

  const secrets = page.getByRole('region', { name: 'Secrets' });
  await secrets.getByLabel('Name').fill('LEDGER_API_KEY');
  await secrets.getByLabel('Value').fill('sk-live-do-not-show');
  await secrets.getByLabel('Allowed hosts').fill('ledger.example.com');
  await secrets.getByRole('button', { name: 'Save secret' }).click();
  await expect(secrets.locator('tr[data-secret="LEDGER_API_KEY"]')).toContainText('ledger.example.com');
  await page.reload();
  await new AppShell(page).waitHydrated();
  expect(await page.content()).not.toContain('sk-live-do-not-show');
});

test('names with markup show as text and run no script', async ({ page }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  const evil = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> ${Date.now()}`;
  await app.create(evil);
  await expect(app.heading()).toHaveText(evil);
  await app.goto();
  await expect(page.getByRole('link', { name: evil })).toBeVisible();
  await page.reload();
  await app.waitHydrated();
  expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
  expect(await page.locator('table.workflows img').count()).toBe(0);

  // a step name and a run's input and output with markup are text too
  await page.getByRole('link', { name: evil }).click();
  await page.locator('g[data-node="end"] .node-kind').click();
  const name = page.getByRole('complementary', { name: 'Inspector' }).getByLabel('Name');
  await name.fill('<b onmouseover="window.__xss=3">End</b>');
  await name.press('Enter');
  await expect(page.locator('g[data-node="end"] .node-name')).toHaveText('<b onmouseover="window.__xss=3">End</b>');
  await page.getByRole('button', { name: 'Run…' }).click();
  const form = page.getByRole('form', { name: 'Run workflow' });
  await form.getByLabel('Input (JSON)').fill('{"note": "<img src=x onerror=window.__xss=4><script>window.__xss=5</script>"}');
  // the renamed step is not saved yet: save it and run
  await form.getByRole('button', { name: 'Save and run' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  await expect(page.getByTestId('run-output')).toContainText('<img src=x onerror=window.__xss=4>');
  await page.reload();
  await app.waitHydrated();
  await expect(page.getByTestId('run-output')).toContainText('<script>');
  expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
  expect(await page.locator('main img').count()).toBe(0);
});

test('an approver may read but not edit or run; Settings is for admins only', async ({ browser, baseURL }) => {
  const page = await signIn(browser, 'approver', baseURL!);
  await expect(page.getByTestId('me')).toContainText('approver');
  await expect(page.getByRole('button', { name: 'New workflow' })).toHaveCount(0);
  await new WorkflowsPage(page).nav('Approvals').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Approvals');
  // the server refuses the page (403) and says why
  const res = await page.goto('/settings');
  expect(res!.status()).toBe(403);
  await new AppShell(page).waitHydrated();
  await expect(page.getByRole('alert').first()).toContainText('your role (approver) may not manage users');
  await page.context().close();
});
