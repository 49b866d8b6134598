import { test, expect, countSaves, expectSubmittedTheRightWay, hydrated, open, saveItsmSettings } from './helpers';

// Each test first saves the values it starts from: none relies on another's saves, and a
// change is always from a known value to another.

test('grouping, interval and auto-resolve are updated and shown after a reload', async ({ page }, info) => {
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
  await open(page, '/settings/itsm', info);
  await page.getByLabel('By controls').check();
  await page.getByLabel('Run the ticket engine every (minutes)').fill('15');
  await page.locator('#auto_resolve').check();
  await page.getByRole('button', { name: 'Update' }).click();
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
  await expectSubmittedTheRightWay(page, info);

  await open(page, '/settings/itsm', info);
  await expect(page.getByLabel('By controls')).toBeChecked();
  await expect(page.getByLabel('Run the ticket engine every (minutes)')).toHaveValue('15');
  await expect(page.locator('#auto_resolve')).toBeChecked();
});

test('a bad interval shows its message and changes nothing', async ({ page }, info) => {
  await saveItsmSettings(page, info, { grouping: 'By controls', interval: '15', autoResolve: true });
  const saves = countSaves(page);
  await open(page, '/settings/itsm', info);
  await page.getByLabel('By resources').check();
  await page.getByLabel('Run the ticket engine every (minutes)').fill('1441');
  await page.getByRole('button', { name: 'Update' }).click();
  await expect(page.locator('#scheduler_interval_minutes-error')).toContainText('5 to 1440');
  await expect(page.locator('.notice-invalid')).toBeVisible();
  if (hydrated(info)) {
    expect(saves()).toBe(0);
  }

  await open(page, '/settings/itsm', info);
  await expect(page.getByLabel('By controls')).toBeChecked();
  await expect(page.getByLabel('Run the ticket engine every (minutes)')).toHaveValue('15');
  await expect(page.locator('#auto_resolve')).toBeChecked();
});

test('the navigation leads from one settings page to the other', async ({ page }, info) => {
  await open(page, '/settings/itsm', info);
  await page.getByRole('link', { name: 'ITSM integrations' }).click();
  await expect(page.getByRole('heading', { name: 'ITSM integrations' })).toBeVisible();
  await page.getByRole('link', { name: 'ITSM settings' }).click();
  await expect(page.getByRole('heading', { name: 'ITSM settings' })).toBeVisible();
});
