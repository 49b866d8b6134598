import { test, expect, expectSubmittedTheRightWay, saveSimulatorConnection } from './helpers';

test('Test connection shows every step passing against a working instance', async ({ page }, info) => {
  await saveSimulatorConnection(page, info);
  await page.getByRole('button', { name: 'Test connection' }).click();
  const steps = page.locator('ol.steps li');
  await expect(steps).toHaveCount(4);
  for (const [i, name] of ['Token request', 'Assignment group', 'Caller', 'Incident states'].entries()) {
    await expect(steps.nth(i)).toContainText(`${name} — passed`);
  }
  await expect(steps.nth(1)).toContainText('Security Operations');
  await expectSubmittedTheRightWay(page, info);
});

test('Test connection with a wrong secret names the failing step and says why', async ({ page }, info) => {
  await saveSimulatorConnection(page, info, 'not-the-client-secret');
  await page.getByRole('button', { name: 'Test connection' }).click();
  const steps = page.locator('ol.steps li');
  await expect(steps).toHaveCount(4);
  await expect(steps.nth(0)).toContainText('Token request — failed');
  await expect(steps.nth(0)).toContainText('check the client ID and secret');
  await expect(steps.nth(2)).toContainText('Caller — failed: Not run');
  await expectSubmittedTheRightWay(page, info);
  expect(await page.content()).not.toContain('not-the-client-secret');
});
