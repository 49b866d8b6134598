import {
  test,
  expect,
  GROUP,
  USER,
  countSaves,
  expectSubmittedTheRightWay,
  hydrated,
  open,
  saveSimulatorConnection,
} from './helpers';

// Each test sets up what it needs: none relies on another's saves or on the order of files.
// What a first save asks for (both secrets) is checked by first-run.spec.ts, on a fresh
// database.

test('bad values show their messages beside their fields and save nothing', async ({ page }, info) => {
  await saveSimulatorConnection(page, info);
  const saves = countSaves(page);
  await open(page, '/settings/connection', info);

  await page.getByLabel('ServiceNow URL').fill('http://acme.service-now.com/now/nav');
  await page.getByLabel('Client ID').fill('itsm-bridge-e2e');
  await page.getByLabel('Group SYS ID').fill('1234');
  await page.getByLabel('User SYS ID').fill('zz' + USER.slice(2));
  await page.getByLabel('User ID', { exact: true }).fill('svc.itsm');
  await page.getByLabel('Days before a new ticket is opened').fill('3651');
  await page.getByRole('button', { name: 'Save' }).click();

  await expect(page.locator('.notice-invalid')).toContainText('Nothing was saved');
  await expect(page.locator('#instance_url-error')).toContainText('https://');
  await expect(page.locator('#group_sys_id-error')).toContainText('this one has 4');
  await expect(page.locator('#user_sys_id-error')).toContainText("'z'");
  await expect(page.locator('#duplicate_days-error')).toContainText('0 to 3650');
  await expect(page.locator('#client_id-error')).toHaveCount(0);
  // What was typed is still there to correct.
  await expect(page.getByLabel('Group SYS ID')).toHaveValue('1234');
  if (hydrated(info)) {
    expect(saves(), 'the browser refused the form itself').toBe(0);
  }

  // What was saved before is still what is saved.
  await open(page, '/settings/connection', info);
  await expect(page.getByLabel('ServiceNow URL')).toHaveValue('http://127.0.0.1:3190');
  await expect(page.getByLabel('Client ID')).toHaveValue('sim-client');
  await expect(page.getByLabel('Days before a new ticket is opened')).toHaveValue('0');
  await expect(page.locator('.field-error')).toHaveCount(0);
});

test('good values are saved, shown again after a reload, and secrets come back empty', async ({ page }, info) => {
  await open(page, '/settings/connection', info);
  await page.getByLabel('ServiceNow URL').fill('https://acme.service-now.com/');
  await page.getByLabel('Client ID').fill('itsm-bridge-e2e');
  await page.getByLabel('Client secret').fill('e2e-client-secret');
  await page.getByLabel('Group SYS ID').fill(GROUP);
  await page.getByLabel('User SYS ID').fill(USER);
  await page.getByLabel('User ID', { exact: true }).fill('svc.itsm');
  await page.getByLabel('Password').fill('e2e-password-value');
  await page.getByLabel('Status before a duplicate ticket is opened').selectOption({ label: 'Closed' });
  await page.getByLabel('Days before a new ticket is opened').fill('30');
  await page.getByRole('button', { name: 'Save' }).click();

  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
  await expectSubmittedTheRightWay(page, info);

  await open(page, '/settings/connection', info);
  await expect(page.getByLabel('ServiceNow URL')).toHaveValue('https://acme.service-now.com');
  await expect(page.getByLabel('Client ID')).toHaveValue('itsm-bridge-e2e');
  await expect(page.getByLabel('Group SYS ID')).toHaveValue(GROUP);
  await expect(page.getByLabel('User SYS ID')).toHaveValue(USER.toLowerCase());
  await expect(page.getByLabel('User ID', { exact: true })).toHaveValue('svc.itsm');
  await expect(page.getByLabel('Status before a duplicate ticket is opened')).toHaveValue('7');
  await expect(page.getByLabel('Days before a new ticket is opened')).toHaveValue('30');
  await expect(page.getByLabel('Client secret')).toHaveValue('');
  await expect(page.getByLabel('Password')).toHaveValue('');
  await expect(page.getByText('A client secret is stored; it is never shown.')).toBeVisible();
  await expect(page.getByText('A password is stored; it is never shown.')).toBeVisible();
  expect(await page.content()).not.toContain('e2e-client-secret');
});

test('a later save with blank secrets keeps them', async ({ page }, info) => {
  await saveSimulatorConnection(page, info);
  await open(page, '/settings/connection', info);
  await page.getByLabel('Days before a new ticket is opened').fill('45');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
  await expectSubmittedTheRightWay(page, info);

  await open(page, '/settings/connection', info);
  await expect(page.getByLabel('Days before a new ticket is opened')).toHaveValue('45');
  await expect(page.getByText('A client secret is stored; it is never shown.')).toBeVisible();
  await expect(page.getByText('A password is stored; it is never shown.')).toBeVisible();
  // Kept, not merely marked as stored: the simulator still takes them.
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator('ol.steps li').nth(0)).toContainText('Token request — passed');
  await expectSubmittedTheRightWay(page, info);
});

test('a new Client ID with blank secrets asks for both secrets again and saves nothing', async ({ page }, info) => {
  await saveSimulatorConnection(page, info);
  const saves = countSaves(page);
  await open(page, '/settings/connection', info);
  const saved = await page.getByLabel('Client ID').inputValue();
  await page.getByLabel('Client ID').fill('itsm-bridge-renamed');
  await page.getByRole('button', { name: 'Save' }).click();

  await expect(page.locator('.notice-invalid')).toContainText('Nothing was saved');
  await expect(page.locator('#client_secret-error')).toContainText('Enter the client secret again: the client ID changed');
  await expect(page.locator('#password-error')).toContainText('Enter the password again: the client ID changed');
  if (hydrated(info)) {
    expect(saves(), 'the browser refused the form itself').toBe(0);
  }

  await open(page, '/settings/connection', info);
  await expect(page.getByLabel('Client ID')).toHaveValue(saved);
});
