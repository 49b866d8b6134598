import fs from 'node:fs';
import path from 'node:path';
import { expectAccessible } from './a11y-helpers';
import { test, expect, expectSubmittedTheRightWay, GROUP, USER, open, ADMIN, ADMIN_PASSWORD as PASSWORD } from './helpers';

async function signIn(page, password = PASSWORD) {
  await page.getByLabel('User name').fill(ADMIN);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('first run: setup with the token, sign in, change a setting, sign out', async ({ page }, info) => {
  // Three Argon2 hashes (setup, a wrong and a right sign-in) on a debug build: on a loaded
  // two-core machine this takes longer than the default 30 s.
  test.slow();
  const { dataDir, stateFile } = info.project.metadata as { dataDir: string; stateFile: string };

  // Before the first admin exists, every page leads to /setup.
  await open(page, '/settings/itsm', info);
  await expect(page).toHaveURL(/\/setup$/);
  // The setup page shows only before the admin exists: accessibility.spec.ts cannot see it.
  await expectAccessible(page, info);
  const token = fs.readFileSync(path.join(dataDir, 'itsm-bridge.setup-token'), 'utf8').trim();

  await page.getByLabel('Setup token').fill(token);
  await page.getByLabel('User name').fill(ADMIN);
  await page.getByLabel('Password', { exact: true }).fill('too short');
  await page.getByLabel('Password again').fill('too short');
  await page.getByRole('button', { name: 'Create the account' }).click();
  await expect(page.locator('#password-error')).toContainText('at least 12 characters');

  await page.getByLabel('Setup token').fill(token);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Password again').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create the account' }).click();
  await expect(page).toHaveURL(/\/login\?created=1$/);
  await expect(page.getByText('The admin account was created.')).toBeVisible();
  expect(fs.existsSync(path.join(dataDir, 'itsm-bridge.setup-token')), 'the token file is gone').toBe(false);

  await signIn(page, 'not the password');
  await expect(page.getByRole('alert')).toContainText('Wrong user name or password.');
  await signIn(page);
  // Signed in, a first-time admin lands on the overview, which lists what is missing next.
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  const steps = page.locator('.first-steps li');
  await expect(steps).toHaveCount(3);
  for (const [n, title, link, href] of [
    [0, 'Connect ServiceNow', 'ITSM integrations', '/settings/connection'],
    [1, 'Create an API token', 'API tokens', '/settings/tokens'],
    [2, 'Send a scan', 'Scans', '/scans'],
  ] as const) {
    await expect(steps.nth(n)).toContainText(title);
    await expect(steps.nth(n).getByRole('link', { name: link })).toHaveAttribute('href', href);
  }
  await expect(page.locator('[data-figure="connection"]')).toHaveAttribute('data-saved', 'false');
  await steps.nth(0).getByRole('link', { name: 'ITSM integrations' }).click();
  await expect(page).toHaveURL(/\/settings\/connection$/);

  await open(page, '/settings/itsm', info);
  await expect(page.getByLabel('By resources')).toBeChecked();
  await expect(page.getByLabel('Run the ticket engine every (minutes)')).toHaveValue('60');
  await expect(page.locator('#auto_resolve')).not.toBeChecked();
  await page.getByLabel('Run the ticket engine every (minutes)').fill('30');
  await page.getByRole('button', { name: 'Update' }).click();
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
  await expectSubmittedTheRightWay(page, info);

  // Nothing is stored yet (the only time a test can count on that): the first save of the
  // connection needs both secrets.
  await open(page, '/settings/connection', info);
  await expect(page.getByText('No client secret is stored yet.')).toBeVisible();
  await page.getByLabel('ServiceNow URL').fill('https://acme.service-now.com/');
  await page.getByLabel('Client ID').fill('itsm-bridge-e2e');
  await page.getByLabel('Group SYS ID').fill(GROUP);
  await page.getByLabel('User SYS ID').fill(USER);
  await page.getByLabel('User ID', { exact: true }).fill('svc.itsm');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.notice-invalid')).toContainText('Nothing was saved');
  await expect(page.locator('#client_secret-error')).toContainText('required the first time');
  await expect(page.locator('#password-error')).toContainText('required the first time');
  await expect(page.locator('#client_id-error')).toHaveCount(0);
  await open(page, '/settings/connection', info);
  await expect(page.getByLabel('ServiceNow URL')).toHaveValue('');
  await expect(page.getByText('No client secret is stored yet.')).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await page.goto('/settings/itsm');
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings%2Fitsm$/);
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);

  // Signing in again comes back to the page asked for; the other tests start from here.
  await signIn(page);
  await expect(page).toHaveURL(/\/settings\/itsm$/);
  await expect(page.getByLabel('Run the ticket engine every (minutes)')).toHaveValue('30');
  await page.context().storageState({ path: stateFile });
});
