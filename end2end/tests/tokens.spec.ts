import { test, expect, countNavigations, expectSubmittedTheRightWay, hydrated, open } from './helpers';

test('an API token is shown once, works for a scanner, and stops working once revoked', async ({ page }, info) => {
  const name = `scanner-${info.project.name}`;
  await open(page, '/settings/tokens', info);
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('#new-token')).toHaveText(/^itsmb_/);
  await expectSubmittedTheRightWay(page, info);
  const token = (await page.locator('#new-token').textContent())!.trim();

  const scan = JSON.stringify({
    source: `e2e-tokens-${info.project.name}`,
    findings: [{ control: { id: 'c1' }, resource: { id: 'r1' }, status: 'fail', severity: 'high' }],
  });
  const sent = await page.request.post('/api/v1/scans', { headers: { Authorization: `Bearer ${token}` }, data: scan });
  expect(sent.status()).toBe(201);

  await open(page, '/settings/tokens', info);
  await expect(page.locator('#new-token')).toHaveCount(0);
  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('active');
  await expect(row).not.toContainText(token);
  const navigations = countNavigations(page);
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByRole('row').filter({ hasText: name })).toContainText('revoked');
  if (hydrated(info)) {
    expect(navigations(), 'the wasm revoked it, the page was not posted').toBe(0);
  }
  const refused = await page.request.post('/api/v1/scans', { headers: { Authorization: `Bearer ${token}` }, data: scan });
  expect(refused.status()).toBe(401);

  await open(page, '/scans', info);
  await expect(page.getByText(`e2e-tokens-${info.project.name} (latest)`)).toBeVisible();
});
