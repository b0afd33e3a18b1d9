import { test, expect } from '../fixtures';
import { AppShell, apiAuth } from '../pages/app';
import { PASSWORD } from '../server';
import { startSmtp, header, text } from '../smtp';

// Notifications as people meet them: an admin sets the mail server and an
// approver's address under Settings; a run stops at an approval; the
// approver gets the email and follows its link straight to the item.
test('an admin sets the mail server and an approver\'s address; the approver follows the emailed link to the item', async ({ page, browser, baseURL, request }) => {
  test.setTimeout(60_000);
  const smtp = await startSmtp();
  const settings = new AppShell(page);
  try {
    await settings.open('/settings');
    const server = page.getByRole('form', { name: 'Mail server' });
    await server.getByLabel('Host').fill('127.0.0.1');
    await server.getByLabel('Port').fill(String(smtp.port));
    await server.getByLabel('Security').selectOption('none');
    await server.getByLabel('From').fill('Stepwise <stepwise@example.com>');
    await server.getByRole('button', { name: 'Save mail server' }).click();
    await expect(page.getByTestId('smtp-state')).toHaveText(
      `Sending through 127.0.0.1:${smtp.port} (none (plain text)) as Stepwise <stepwise@example.com>.`,
    );

    // a careless address is refused with what to fix, and nothing is saved
    const approver = page.locator('tr[data-user="approver"]');
    await approver.getByLabel('Email of approver').fill('approver at example');
    await approver.getByLabel('Email of approver').press('Enter');
    await expect(page.getByRole('region', { name: 'Users' }).getByRole('alert')).toContainText("'approver at example' is not an email address");
    await approver.getByLabel('Email of approver').fill('approver@example.com');
    await approver.getByLabel('Email of approver').press('Enter');
    await approver.getByLabel('Notifications of approver').selectOption('each');
    // saved: it is there after a reload
    await page.reload();
    await settings.waitHydrated();
    await expect(page.locator('tr[data-user="approver"]').getByLabel('Email of approver')).toHaveValue('approver@example.com');

    // a run stops at an approval for the approver role
    const name = `Emailed ${Date.now()}`;
    const created = await request.post('/api/v1/workflows', {
      headers: apiAuth(),
      data: {
        name,
        definition: {
          nodes: [
            { id: 'start', name: 'Start', type: 'start' },
            { id: 'ok', name: 'Payment check', type: 'approval', title: 'Pay {{ input.vendor }}', instructions: 'Check the amount: {{ input.amount }}.', approvers: { roles: ['approver'] }, required_approvals: 1 },
            { id: 'end', name: 'End', type: 'end', output: '.steps.ok.output' },
          ],
          edges: [{ from: 'start', to: 'ok' }, { from: 'ok', to: 'end' }],
        },
      },
    });
    expect(created.status(), await created.text()).toBe(201);
    const wf = (await created.json()).workflow_id;
    const started = await request.post(`/api/v1/workflows/${wf}/runs`, { headers: apiAuth(), data: { input: { vendor: 'Globex', amount: 4200 } } });
    expect(started.status(), await started.text()).toBe(202);
    const run = (await started.json()).run_id;

    // the email reaches the approver (and only people with an address)
    await expect.poll(() => smtp.messages.filter((m) => header(m, 'subject')?.includes('Pay Globex')).length, { timeout: 15_000 }).toBe(1);
    const mail = smtp.messages.find((m) => header(m, 'subject')?.includes('Pay Globex'))!;
    expect(mail.to).toEqual(['approver@example.com']);
    expect(header(mail, 'subject')).toBe(`Approval needed: Pay Globex (${name})`);
    const body = text(mail);
    expect(body).toContain('Check the amount: 4200.');
    const link = /Decide it here: (\S+)/.exec(body)?.[1] ?? '';
    expect(link).toMatch(new RegExp(`^${baseURL}/approvals/apv_[0-9a-f]{32}$`));

    // the admin sees it delivered in the outbox
    await page.reload();
    await settings.waitHydrated();
    const outbox = page.getByRole('region', { name: 'Outbox' });
    await expect(outbox.locator('tr', { hasText: 'Pay Globex' })).toContainText('email: approver@example.com');
    await expect(outbox.locator('tr', { hasText: 'Pay Globex' })).toContainText('delivered');
    await page.getByRole('region', { name: 'Notifications' }).screenshot({ path: 'test-results/notifications.png' });

    // the approver, signed out, follows the link: signs in and lands on the item
    const context = await browser.newContext({ storageState: { cookies: [], origins: [] }, baseURL });
    const person = await context.newPage();
    await person.goto(link);
    await expect(person).toHaveURL(/\/login\?next=/);
    await new AppShell(person).waitHydrated();
    const form = person.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('Username').fill('approver');
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await expect(person).toHaveURL(link);
    await new AppShell(person).waitHydrated();
    await expect(person.getByRole('heading', { level: 1 })).toHaveText('Pay Globex');
    await expect(person.locator('.instructions')).toContainText('Check the amount: 4200.');
    await person.getByRole('region', { name: 'Decision' }).getByRole('button', { name: 'Approve' }).click();
    await expect(person.getByTestId('item-status')).toHaveText('approved');
    await expect.poll(async () => (await (await request.get(`/api/v1/runs/${run}`, { headers: apiAuth() })).json()).status).toBe('succeeded');
    await person.context().close();
  } finally {
    // later tests' approvals are not emailed to a server that is gone
    await settings.open('/settings');
    await page.getByRole('button', { name: 'Forget the mail server' }).click();
    await expect(page.getByTestId('smtp-state')).toHaveText('No mail server is set: nobody is emailed.');
    smtp.close();
  }
});
