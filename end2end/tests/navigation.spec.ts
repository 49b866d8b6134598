import { ADMIN, expect, hydrated, open, test } from './helpers';

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

// A page's data comes inside the page (the top bar's admin, the page's resources), read back
// in the order the server wrote it: hydrating a page asks the server for none of it. Were
// one read back out of order, its page would load it again, and the bar could lose its name.
test('hydrating a page asks the server for none of its data', async ({ page }, info) => {
  test.skip(!hydrated(info), 'hydration needs JavaScript');
  const asked: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/api/')) asked.push(path);
  });
  for (const path of ['/', '/settings/connection', '/settings/itsm', '/tickets', '/audit']) {
    await open(page, path, info);
    await page.waitForLoadState('networkidle');
    await expect(page.locator('.topbar .who'), path).toHaveText(ADMIN);
  }
  expect(asked).toEqual([]);
});
