import { test, expect } from '../fixtures';
import { AppShell, WorkflowsPage, signIn } from '../pages/app';
import { Designer } from '../pages/designer';

// The suite's server runs with --demo: its stand-in model (an
// OpenAI-compatible endpoint that classifies by counting words, with
// log-probabilities) is the seeded `demo` model connection.

test('an LLM step: pick the connection, write a prompt, test it, run it, and decide its doubtful answer in the inbox', async ({ page, browser, baseURL }) => {
  const app = new WorkflowsPage(page);
  await app.goto();
  const name = `Tickets ${Date.now()}`;
  await app.create(name);
  const d = new Designer(page);

  // Start -> LLM step -> End, from the palette's search
  await d.select('start');
  await d.addByKeyboard('llm');
  await expect(d.edge('start', 'out', 'llm_1')).toHaveCount(1);
  await expect(d.edge('llm_1', 'yes', 'end')).toHaveCount(1);
  await d.inspector.getByTestId('llm-connection').selectOption('demo');
  await d.inspector.getByLabel('Label 1 name').fill('refund');
  await d.inspector.getByLabel('Label 1 description').fill('the customer wants their money back');
  await d.inspector.getByLabel('Label 2 name').fill('billing');
  await d.inspector.getByLabel('Label 2 description').fill('a question about an invoice or a charge');
  // the connection follows its renamed label
  await expect(d.edge('llm_1', 'refund', 'end')).toHaveCount(1);
  await d.inspector.getByLabel('Prompt (template over the run context)').fill('Ticket: {{ input.text }}');
  await d.inspector.getByText('Timeout and confidence').click();
  await d.inspector.getByLabel("Confidence threshold (0–1, empty = the workflow's)").fill('0.75');
  await d.inspector.getByLabel("Confidence threshold (0–1, empty = the workflow's)").press('Tab');
  await d.select('llm_1');
  await d.addByKeyboard('end');
  await expect(d.edge('llm_1', 'billing', 'end_1')).toHaveCount(1);
  await d.inspector.getByLabel('Output mapping (jq, optional)').fill('"billing"');
  await expect(d.root.getByText('No problems')).toBeVisible();

  // the prompt as it would be sent, over sample data; then one real call
  await d.select('llm_1');
  const panel = d.inspector.locator('details.test-step');
  await panel.locator('summary').first().click();
  await panel.getByLabel('Sample data (input and earlier steps\' outputs)').fill('{"input": {"text": "Please refund my money, it broke"}, "steps": {}}');
  const preview = d.inspector.getByTestId('preview-message');
  await expect(preview.nth(0)).toContainText('- refund: the customer wants their money back');
  await expect(preview.nth(1)).toContainText('Ticket: Please refund my money, it broke');
  await panel.getByRole('button', { name: 'Test step' }).click();
  const result = d.inspector.getByTestId('test-result');
  await expect(result).toContainText("leaving by 'refund'");
  await expect(result.getByTestId('llm-confidence')).toContainText('measured by log-probabilities of the label');
  await expect(result.getByTestId('llm-usage')).toContainText('tokens in');
  await d.save(2);

  // a ticket that fits both labels: the run waits for a person
  await page.getByRole('button', { name: 'Run…' }).click();
  const form = page.getByRole('form', { name: 'Run workflow' });
  await form.getByLabel('Input (JSON)').fill('{"text": "I want my money back for the invoice charge"}');
  await form.getByRole('button', { name: 'Run version 2' }).click();
  await expect(page).toHaveURL(/\/runs\//);
  await expect(page.locator('tr[data-step="llm_1"]')).toContainText('waiting', { timeout: 15_000 });
  await expect(page.getByTestId('run-usage')).toContainText('tokens in');
  const runUrl = page.url();

  // the approver sees the model's answer, its reasoning and lineage, and corrects the label
  const approver = await signIn(browser, 'approver', baseURL!);
  await new AppShell(approver).open('/approvals');
  await approver.getByLabel('Workflow').fill(name);
  const row = approver.locator('table.approvals tbody tr');
  await expect(row).toHaveCount(1);
  await row.getByRole('link').first().click();
  await expect(approver.getByRole('heading', { level: 1 })).toContainText('low confidence');
  const answer = approver.getByTestId('model-answer');
  await expect(answer).toContainText('Label: refund');
  await expect(answer).toContainText('measured by log-probabilities of the label');
  await expect(approver.getByTestId('model-reason')).toContainText('The ticket mentions');
  await expect(approver.getByTestId('item-lineage')).toContainText('model stepwise-demo via demo');
  await expect(approver.getByTestId('item-lineage')).toContainText('prompt SHA-256');
  const decision = approver.getByRole('region', { name: 'Decision' });
  await decision.getByRole('group', { name: 'Proposed output' }).getByLabel('label', { exact: true }).fill('billing');
  await decision.getByRole('button', { name: 'Approve' }).click();
  await expect(approver.getByTestId('item-status')).toHaveText('approved');

  // the run takes the corrected label's branch
  await new AppShell(page).open(new URL(runUrl).pathname);
  await expect(page.getByTestId('run-status')).toHaveText('succeeded', { timeout: 15_000 });
  await expect(page.locator('tr[data-step="end_1"]')).toContainText('succeeded');
  await expect(page.locator('tr[data-step="end"]')).toContainText('skipped');
  // the step's attempt shows the call it made and where its output came from
  await page.locator('tr[data-step="llm_1"]').getByRole('button', { name: 'Details' }).click();
  await expect(page.getByTestId('model-call').first()).toContainText('demo · stepwise-demo');
  await expect(page.getByTestId('lineage-hashes').first()).toContainText('Input SHA-256');
});

test('an admin adds a model connection; a bad base URL is refused with what to fix', async ({ page }) => {
  await new AppShell(page).open('/settings');
  const section = page.getByRole('region', { name: 'Model connections' });
  await expect(section.locator('tr[data-connection="demo"]')).toContainText('stepwise-demo');
  const form = section.getByRole('form', { name: 'Save a model connection' });
  const name = `ollama${Date.now() % 100000}`;
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Base URL').fill('http://127.0.0.1:11434/v1');
  await form.getByLabel('Model').fill('llama3.1:8b');
  await form.getByLabel('API key secret (optional)').fill('NO_SUCH_SECRET');
  await form.getByRole('button', { name: 'Save connection' }).click();
  await expect(section.getByRole('alert')).toContainText('there is no secret named NO_SUCH_SECRET');
  await form.getByLabel('API key secret (optional)').fill('');
  await form.getByRole('button', { name: 'Save connection' }).click();
  await expect(section.locator(`tr[data-connection="${name}"]`)).toContainText('llama3.1:8b');
  await section.locator(`tr[data-connection="${name}"]`).getByRole('button', { name: 'Delete' }).click();
  await expect(section.locator(`tr[data-connection="${name}"]`)).toHaveCount(0);
});
