import type { Page } from '@playwright/test';
import { ADMIN, ADMIN_PASSWORD, expect, expectSubmittedTheRightWay, open, SIM, test } from './helpers';

// The forms work with the keyboard alone: Tab reaches each field in the order it is shown,
// typing fills it, Enter submits. No click, no `fill`, no `focus()` anywhere here.

/** The id of the focused element, or its tag when it has none. */
async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    return element?.id || element?.tagName.toLowerCase() || '';
  });
}

/** Presses Tab from the top of the page until `id` has the focus; fails if it never does. */
async function tabTo(page: Page, id: string) {
  for (let presses = 0; presses < 100; presses += 1) {
    await page.keyboard.press('Tab');
    if ((await focused(page)) === id) return;
  }
  throw new Error(`Tab never reached #${id} (the focus is on ${await focused(page)})`);
}

/** Types into each field in turn, checking that one Tab leads from each to the next. */
async function typeInOrder(page: Page, fields: [id: string, text: string][]) {
  const [first] = fields;
  await tabTo(page, first[0]);
  for (const [index, [id, text]] of fields.entries()) {
    if (index > 0) await page.keyboard.press('Tab');
    expect(await focused(page), 'the field Tab leads to').toBe(id);
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(text);
  }
}

test('save the connection with the keyboard alone', async ({ page }, info) => {
  await open(page, '/settings/connection', info);
  await typeInOrder(page, [
    ['instance_url', SIM.url],
    ['client_id', SIM.clientId],
    ['client_secret', SIM.clientSecret],
    ['group_sys_id', SIM.group],
    ['user_sys_id', SIM.user],
    ['user_id', SIM.userId],
    ['password', SIM.password],
  ]);
  // The status list: arrow keys choose, as in any select.
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('duplicate_status');
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('duplicate_days');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('0');
  await page.keyboard.press('Enter');
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
  await expectSubmittedTheRightWay(page, info);
  await expect(page.getByLabel('ServiceNow URL')).toHaveValue(SIM.url);
  await expect(page.getByLabel('Group SYS ID')).toHaveValue(SIM.group);
});

test('sign in with the keyboard alone', async ({ browser }, info) => {
  // Argon2 on a debug build, on a loaded machine.
  test.slow();
  // A browser of its own, signed out: Playwright would give it the project's signed-in
  // state, and a sign-in with that session's cookie ends that session (a fresh id at every
  // sign-in), signing out every later test.
  const context = await browser.newContext({
    baseURL: info.project.use.baseURL,
    javaScriptEnabled: info.project.use.javaScriptEnabled,
    storageState: { cookies: [], origins: [] },
  });
  const page = await context.newPage();
  await open(page, '/login', info);
  await typeInOrder(page, [
    ['username', ADMIN],
    ['password', ADMIN_PASSWORD],
  ]);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await context.close();
});

test('create an API token with the keyboard alone', async ({ page }, info) => {
  await open(page, '/settings/tokens', info);
  const name = `keyboard-${info.project.name}-${Date.now()}`;
  await typeInOrder(page, [
    ['token-name', name],
    ['token-source', 'keyboard-source'],
  ]);
  await page.keyboard.press('Enter');
  await expect(page.locator('#new-token')).toHaveText(/^itsmb_/);
  await expect(page.getByRole('row', { name: new RegExp(name) })).toContainText('keyboard-source');
});
