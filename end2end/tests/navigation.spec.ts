import { expect, hydrated, open, test } from './helpers';

// The main navigation marks the page shown (aria-current="page", highlighted by the
// stylesheet and announced by screen readers). With JavaScript a click is followed in the
// page itself (no reload) and the mark moves with it; without, the link loads the page.
test('the navigation marks the page shown and moves the mark when a link is followed', async ({ page }, info) => {
  await open(page, '/', info);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.locator('a[aria-current="page"]')).toHaveText(['Overview']);

  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await nav.getByRole('link', { name: 'Scans' }).click();
  await expect(page).toHaveURL(/\/scans$/);
  await expect(page.getByRole('heading', { name: 'Scans', exact: true })).toBeVisible();
  await expect(nav.locator('a[aria-current="page"]')).toHaveText(['Scans']);
  const stayed = await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed === true);
  expect(stayed, 'followed without reloading the page').toBe(hydrated(info));
});
