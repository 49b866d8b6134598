import { test, expect, expectSubmittedTheRightWay, open } from './helpers';

test('a source no longer sent is retired from the Scans page, which says what that does', async ({ page }, info) => {
  const source = `e2e-retire-${info.project.name}`;
  await open(page, '/settings/tokens', info);
  await page.getByLabel('Name').fill(`retire-${info.project.name}`);
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.locator('#new-token')).toHaveText(/^itsmb_/);
  const token = (await page.locator('#new-token').textContent())!.trim();
  const scan = JSON.stringify({
    source,
    findings: [{ control: { id: 'c1' }, resource: { id: 'r1' }, status: 'fail', severity: 'high' }],
  });
  const sent = await page.request.post('/api/v1/scans', { headers: { Authorization: `Bearer ${token}` }, data: scan });
  expect(sent.status()).toBe(201);

  await open(page, '/scans', info);
  const row = page.getByRole('row').filter({ hasText: `${source} (latest)` });
  await row.getByText('Retire…').click();
  await expect(row).toContainText('Its findings then no longer fail');
  await expect(row).toContainText('treats the findings of its tickets as absent');
  await row.getByRole('button', { name: `Retire ${source}` }).click();
  await expect(page.locator('.retire-notice')).toContainText(`Source \u201c${source}\u201d retired: its 1 scan was deleted.`);
  await expectSubmittedTheRightWay(page, info);
  await expect(page.getByText(`${source} (latest)`)).toHaveCount(0);

  // Reloaded, the source is gone for good.
  await open(page, '/scans', info);
  await expect(page.getByText(`${source} (latest)`)).toHaveCount(0);
});
