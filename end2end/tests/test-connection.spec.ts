import { test, expect, open, SIM } from './helpers';

async function saveConnection(page, info, clientSecret: string) {
  await open(page, '/settings/connection', info);
  await page.getByLabel('ServiceNow URL').fill(SIM.url);
  await page.getByLabel('Client ID').fill(SIM.clientId);
  await page.getByLabel('Client secret').fill(clientSecret);
  await page.getByLabel('Group SYS ID').fill(SIM.group);
  await page.getByLabel('User SYS ID').fill(SIM.user);
  await page.getByLabel('User ID', { exact: true }).fill(SIM.userId);
  await page.getByLabel('Password').fill(SIM.password);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
}

test('Test connection shows every step passing against a working instance', async ({ page }, info) => {
  await saveConnection(page, info, SIM.clientSecret);
  await page.getByRole('button', { name: 'Test connection' }).click();
  const steps = page.locator('ol.steps li');
  await expect(steps).toHaveCount(4);
  for (const [i, name] of ['Token request', 'Assignment group', 'Caller', 'Incident states'].entries()) {
    await expect(steps.nth(i)).toContainText(`${name} — passed`);
  }
  await expect(steps.nth(1)).toContainText('Security Operations');
});

test('Test connection with a wrong secret names the failing step and says why', async ({ page }, info) => {
  await saveConnection(page, info, 'not-the-client-secret');
  await page.getByRole('button', { name: 'Test connection' }).click();
  const steps = page.locator('ol.steps li');
  await expect(steps).toHaveCount(4);
  await expect(steps.nth(0)).toContainText('Token request — failed');
  await expect(steps.nth(0)).toContainText('check the client ID and secret');
  await expect(steps.nth(2)).toContainText('Caller — failed: Not run');
  expect(await page.content()).not.toContain('not-the-client-secret');
});
