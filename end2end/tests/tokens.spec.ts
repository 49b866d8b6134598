import { test, expect, countNavigations, expectSubmittedTheRightWay, hydrated, open } from './helpers';

test('an API token is shown once, works for a scanner, and stops working once revoked', async ({ page }, info) => {
  const name = `scanner-${info.project.name}`;
  const source = `e2e-tokens-${info.project.name}`;
  await open(page, '/settings/tokens', info);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Source (optional)').fill(source);
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('#new-token')).toHaveText(/^itsmb_/);
  await expectSubmittedTheRightWay(page, info);
  await expect(page.locator('.token-created')).toContainText(`only ${source}`);
  const token = (await page.locator('#new-token').textContent())!.trim();

  const scanOf = (of: string) => JSON.stringify({
    source: of,
    findings: [{ control: { id: 'c1' }, resource: { id: 'r1' }, status: 'fail', severity: 'high' }],
  });
  const scan = scanOf(source);
  const sent = await page.request.post('/api/v1/scans', { headers: { Authorization: `Bearer ${token}` }, data: scan });
  expect(sent.status()).toBe(201);
  // The token is limited to its source: another one is refused, saying why.
  const elsewhere = await page.request.post('/api/v1/scans', { headers: { Authorization: `Bearer ${token}` }, data: scanOf(`${source}-other`) });
  expect(elsewhere.status()).toBe(403);
  expect(await elsewhere.text()).toContain(`may only send scans of the source`);

  await open(page, '/settings/tokens', info);
  await expect(page.locator('#new-token')).toHaveCount(0);
  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('active');
  await expect(row).toContainText(`only ${source}`);
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

test('a token without a name is refused with the reason beside the field', async ({ page }, info) => {
  await open(page, '/settings/tokens', info);
  const navigations = countNavigations(page);
  await page.getByLabel('Name').fill('   ');
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('[data-error-for="token-name"]')).toContainText('Give the token a name of 1 to 100 characters');
  if (hydrated(info)) {
    expect(navigations(), 'the browser checked it: nothing was sent').toBe(0);
  }
  await expect(page.locator('#new-token')).toHaveCount(0);
});
