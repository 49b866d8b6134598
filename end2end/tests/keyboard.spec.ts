import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { test as engineTest } from './engine-helpers';
import {
  ADMIN,
  ADMIN_PASSWORD,
  expect,
  expectSubmittedTheRightWay,
  hydrated,
  open,
  saveItsmSettings,
  saveSimulatorConnection,
  SIM,
  startFreshServer,
  test,
} from './helpers';

// The forms work with the keyboard alone: Tab reaches each field in the order it is shown,
// typing fills it, arrow keys move through a group of radio buttons, Space ticks a box or
// presses a button, Enter submits. No click, no `fill`, no `focus()` on what a test checks
// (a test's own set-up, a saved connection or settings, uses the helpers as other specs do).

// The date field takes its digits in the order of the browser's language, which
// playwright.config.ts sets to en-US (month, day, year), as the page's locale here.
test.use({ locale: 'en-US' });

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

/** Presses Tab until the button `name` has the focus; fails if it never does. */
async function tabToButton(page: Page, name: string) {
  for (let presses = 0; presses < 100; presses += 1) {
    await page.keyboard.press('Tab');
    const button = await page.evaluate(() => {
      const element = document.activeElement;
      return element instanceof HTMLButtonElement ? element.textContent?.trim() : undefined;
    });
    if (button === name) break;
  }
  await expect(page.getByRole('button', { name, exact: true }), `Tab reaches the button ${name}`).toBeFocused();
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

test('change and save the ITSM settings with the keyboard alone', async ({ page }, info) => {
  // From known values, so that each change below is one.
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
  await open(page, '/settings/itsm', info);
  // Tab enters the grouping at its checked choice; the arrow key moves to the other and
  // chooses it.
  await tabTo(page, 'grouping-resources');
  await page.keyboard.press('ArrowDown');
  expect(await focused(page), 'the choice the arrow key moves to').toBe('grouping-controls');
  await expect(page.getByLabel('By controls')).toBeChecked();
  await page.keyboard.press('Tab');
  expect(await focused(page), 'the field after the grouping').toBe('scheduler_interval_minutes');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('45');
  await page.keyboard.press('Tab');
  expect(await focused(page), 'the field after the interval').toBe('auto_resolve');
  await page.keyboard.press('Space');
  await expect(page.locator('#auto_resolve')).toBeChecked();
  // Past the filters (their boxes depend on the sources seen) to the form's button.
  await tabToButton(page, 'Update');
  await page.keyboard.press('Enter');
  await expect(page.locator('.notice-saved')).toHaveText('Saved.');
  await expectSubmittedTheRightWay(page, info);

  await open(page, '/settings/itsm', info);
  await expect(page.getByLabel('By controls')).toBeChecked();
  await expect(page.getByLabel('Run the ticket engine every (minutes)')).toHaveValue('45');
  await expect(page.locator('#auto_resolve')).toBeChecked();
  // Back to the defaults, for whatever runs next (each test sets its own anyway).
  await saveItsmSettings(page, info, { grouping: 'By resources', interval: '60', autoResolve: false });
});

test('add an exception with the keyboard alone', async ({ page }, info) => {
  const stamp = Date.now();
  const control = `ctl-keyboard-${info.project.name}-${stamp}`;
  const resource = `res-keyboard-${info.project.name}-${stamp}`;
  const reason = `Keyboard test ${info.project.name} ${stamp}`;
  const lastDay = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  const [year, month, day] = lastDay.split('-');
  await open(page, '/exceptions', info);
  // "One control on one resource" is the checked choice: Tab stops there.
  await tabTo(page, 'scope-pair');
  await page.keyboard.press('Tab');
  expect(await focused(page), 'the field after the scope').toBe('control_id');
  await page.keyboard.type(control);
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('resource_id');
  await page.keyboard.type(resource);
  // The kind: Tab stops at "Accepted risk", the arrow key chooses "False positive".
  await page.keyboard.press('Tab');
  expect(await focused(page), 'the field after the resource id').toBe('kind-accepted_risk');
  await page.keyboard.press('ArrowDown');
  expect(await focused(page)).toBe('kind-false_positive');
  await expect(page.getByLabel('False positive')).toBeChecked();
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('reason');
  await page.keyboard.type(reason);
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('expires_on');
  // Chromium moves from month to day to year by itself as the digits come.
  await page.keyboard.type(`${month}${day}${year}`);
  await expect(page.getByLabel('Holds until (last day, UTC)')).toHaveValue(lastDay);
  // Chromium's date field keeps a Tab for a part of its own after the year before the
  // focus leaves it for the next element.
  for (let presses = 0; presses < 3 && (await focused(page)) === 'expires_on'; presses += 1) {
    await page.keyboard.press('Tab');
  }
  await expect(page.getByRole('button', { name: 'Add exception' }), 'Tab after the last day').toBeFocused();
  await page.keyboard.press('Enter');

  const row = page.locator('table.exceptions tr[data-exception-id]').filter({ hasText: reason });
  await expect(row).toHaveAttribute('data-status', 'holds');
  await expect(row).toContainText(`control ${control} on resource ${resource}`);
  await expect(row).toContainText(/false positive/i);
  await expect(row).toContainText(lastDay);
  if (!hydrated(info)) await expect(page).toHaveURL(/[?&]flash=/);
  // Listed after a reload too: it was saved, not only shown.
  await open(page, '/exceptions', info);
  await expect(row).toHaveAttribute('data-status', 'holds');
});

test('Test connection with the keyboard alone', async ({ page }, info) => {
  await saveSimulatorConnection(page, info);
  await open(page, '/settings/connection', info);
  // Past the form's fields and Save, to the button of its own section.
  await tabToButton(page, 'Test connection');
  await page.keyboard.press('Space');
  const steps = page.locator('ol.steps li');
  await expect(steps).toHaveCount(4);
  for (const [i, name] of ['Token request', 'Assignment group', 'Caller', 'Incident states'].entries()) {
    await expect(steps.nth(i)).toContainText(`${name} — passed`);
  }
  await expectSubmittedTheRightWay(page, info);
});

const RUN_NOW_ANSWER = /^Run (\d+) (started\.|is in progress; nothing was started\.)$/;
const ENDED = /^(succeeded|partial|failed|interrupted)$/;

// engine-helpers' `test`: Run now may answer 409 while a run of an earlier test ends.
engineTest('Run now with the keyboard alone', async ({ page }, info) => {
  engineTest.setTimeout(90_000);
  await saveSimulatorConnection(page, info);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    await open(page, '/runs', info);
    await tabToButton(page, 'Run now');
    await page.keyboard.press('Enter');
    const notice = page.locator('.run-notice');
    await expect(notice).toHaveText(RUN_NOW_ANSWER);
    await expectSubmittedTheRightWay(page, info);
    const [, id, answer] = RUN_NOW_ANSWER.exec((await notice.textContent())!.trim())!;
    // Listed at once, as started by Run now; then followed to its end, so that nothing
    // is left running for the next test.
    const row = page.locator(`table.runs tr[data-run-id="${id}"]`);
    if (answer === 'started.') {
      await expect(row.locator('td').nth(1)).toHaveText('Run now');
    }
    await expect(async () => {
      await open(page, `/runs/${id}`, info);
      await expect(page.locator('.run-summary')).toHaveAttribute('data-outcome', ENDED, { timeout: 1_000 });
    }).toPass({ timeout: 60_000, intervals: [500, 1_000] });
    if (answer === 'started.') return;
  }
  throw new Error('Run now kept answering that a run is in progress');
});

test('create the admin account on first run with the keyboard alone', async ({ browser }, info) => {
  // Argon2 on a debug build, and a server started for this test alone.
  test.slow();
  const server = await startFreshServer(hydrated(info) ? 3111 : 3112, `keyboard-setup-${info.project.name}`);
  try {
    const context = await browser.newContext({
      baseURL: server.baseURL,
      javaScriptEnabled: info.project.use.javaScriptEnabled,
      storageState: { cookies: [], origins: [] },
    });
    const page = await context.newPage();
    await open(page, '/setup', info);
    const tokenFile = path.join(server.dataDir, 'itsm-bridge.setup-token');
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    await typeInOrder(page, [
      ['setup_token', token],
      ['username', ADMIN],
      ['password', ADMIN_PASSWORD],
      ['password_confirm', ADMIN_PASSWORD],
    ]);
    await page.keyboard.press('Tab');
    await expect(page.getByRole('button', { name: 'Create the account' }), 'Tab from the last field').toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/login\?created=1$/);
    await expect(page.getByText('The admin account was created.')).toBeVisible();
    expect(fs.existsSync(tokenFile), 'the token file is gone').toBe(false);
    await context.close();
  } finally {
    await server.stop();
  }
});
