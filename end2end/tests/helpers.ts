import { test as base, expect, type Page, type TestInfo } from '@playwright/test';

/**
 * Playwright's `test`, failing any test during which the page logged an error or threw:
 * a hydration mismatch or a panic in the wasm shows up there first.
 */
export const test = base.extend<{ pageErrors: void }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await use();
      expect(errors, 'errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

export const GROUP = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
export const USER = 'F9E8D7C6B5A4938271605F4E3D2C1B0A';

export function hydrated(info: TestInfo): boolean {
  return info.project.use.javaScriptEnabled !== false;
}

/** Opens a page; with JavaScript, waits until the wasm has attached its handlers. */
export async function open(page: Page, path: string, info: TestInfo) {
  await page.goto(path);
  if (hydrated(info)) {
    await page.locator('body[data-hydrated="true"]').waitFor();
  }
}

/** Counts the save requests the page sends, to tell browser-side refusals apart. */
export function countSaves(page: Page): () => number {
  let saves = 0;
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().includes('/api/save_')) saves += 1;
  });
  return () => saves;
}

/** After a submit: a hydrated page stays put, a plain form post is redirected with a flash. */
export async function expectSubmittedTheRightWay(page: Page, info: TestInfo) {
  if (hydrated(info)) {
    await expect(page).not.toHaveURL(/flash=/);
  } else {
    await expect(page).toHaveURL(/flash=/);
  }
}

// The simulator started by playwright.config.ts, with its seeded accounts.
export const SIM = {
  url: 'http://127.0.0.1:3190',
  clientId: 'sim-client',
  clientSecret: 'sim-client-secret',
  group: '477a05d153013010b846ddeeff7b1225',
  user: '6816f79cc0a8016401c5a33be04be441',
  userId: 'itsm.bridge',
  password: 'sim-password-1',
};
