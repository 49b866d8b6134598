import { expect, open, saveItsmSettings, saveSimulatorConnection, SIM } from './helpers';
import { createToken, runToEnd, sendScan, test } from './engine-helpers';

test.describe.configure({ mode: 'serial' });

test('a run lists its tickets, the filters narrow them, and a number opens the incident in the instance', async ({ page, request }, info) => {
  test.setTimeout(120_000);
  await saveSimulatorConnection(page, info);
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
  const token = await createToken(page, info, 'tickets');
  const resource = `res-tickets-${info.project.name}-${Date.now()}`;
  await sendScan(request, token, `e2e-tickets-${info.project.name}`, [resource]);
  const runId = await runToEnd(page, info);

  // The run's page says what it did to the group: opened INC…
  const group = page.locator(`table.run-groups tr[data-key="${resource}"]`);
  await expect(group).toHaveAttribute('data-action', 'opened');
  await expect(page.locator('h1')).toHaveText(`Run ${runId}`);
  const number = /INC\d+/.exec((await group.locator('td.action').textContent())!)![0];

  // The tickets list, filtered by a query string that works with and without JavaScript.
  await open(page, '/tickets?state=open&grouping=resources', info);
  const ticket = page.locator('table.tickets tr[data-ticket-id]', { hasText: resource });
  await expect(ticket).toHaveCount(1);
  await expect(ticket).toHaveAttribute('data-tracking', 'tracked');
  await expect(ticket).toHaveAttribute('data-state', 'open');
  await expect(ticket).toContainText('New');
  const link = ticket.locator('a.ticket-link');
  await expect(link).toHaveText(number);
  const href = (await link.getAttribute('href'))!;
  expect(href).toMatch(/^http:\/\/127\.0\.0\.1:3190\/nav_to\.do\?uri=incident\.do\?sys_id=[0-9a-f]{32}$/);

  // Another state chosen in the form: the ticket is not among the resolved ones.
  await page.getByLabel('State').selectOption('resolved');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/\/tickets\?state=resolved&grouping=resources$/);
  await expect(page.getByLabel('State')).toHaveValue('resolved');
  await expect(page.locator('table.tickets tr[data-ticket-id]', { hasText: resource })).toHaveCount(0);

  // Tickets of the grouping not in use are frozen, and followed again when it comes back.
  await saveItsmSettings(page, info, { grouping: 'By controls', interval: '60', autoResolve: false });
  await open(page, '/tickets?grouping=resources', info);
  await expect(page.locator('table.tickets tr[data-ticket-id]', { hasText: resource })).toHaveAttribute('data-tracking', 'frozen');
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });

  // The number opens the incident in the instance it was opened on.
  await open(page, '/tickets?state=open&grouping=resources', info);
  await page.locator('table.tickets tr[data-ticket-id]', { hasText: resource }).locator('a.ticket-link').click();
  await expect(page).toHaveURL(href);
  await expect(page.locator('body')).toContainText(number);
  await expect(page.locator('body')).toContainText(resource);
  expect(href.startsWith(SIM.url)).toBe(true);
});
