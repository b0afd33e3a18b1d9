import { test as base, expect, type BrowserContext } from '@playwright/test';

export { expect };
export type { APIRequestContext, Page, Locator, Browser } from '@playwright/test';

// What no page may ever print: a panic of the wasm, a hydration mismatch
// (which panics and leaves the page dead: buttons do nothing, a form posts
// natively), and Leptos's warning that a resource is read outside
// <Suspense/>/<Transition/> in hydrate mode, which is how such a mismatch
// starts: it depends on whether the server had the data when it streamed
// that part, so it fails now and then, while the warning shows every time.
const BROKEN = [
  /panicked at/,
  /hydration error/i,
  /reading a resource in `hydrate` mode outside/,
];

function watch(context: BrowserContext, problems: string[]) {
  context.on('weberror', (e) => problems.push(`page error: ${e.error().message}`));
  context.on('console', (m) => {
    const text = m.text();
    if (BROKEN.some((re) => re.test(text))) problems.push(`console ${m.type()}: ${text.split('\n')[0]}`);
  });
}

/**
 * Every test, in every browser context it opens, fails when a page panics
 * or hydrates in a way that can break: the test's own steps may pass on a
 * page that a person would find dead the next time.
 */
export const test = base.extend<{ pagesStayAlive: void }>({
  pagesStayAlive: [
    async ({ context, browser }, use) => {
      const problems: string[] = [];
      watch(context, problems);
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const c = await newContext(options);
        watch(c, problems);
        return c;
      };
      try {
        await use();
      } finally {
        browser.newContext = newContext;
      }
      expect(problems, 'what the pages reported').toEqual([]);
    },
    { auto: true },
  ],
});
