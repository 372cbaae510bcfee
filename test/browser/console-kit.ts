// What the console's browser tests share: one browser per file, the API called with a token,
// a console session signed in through the form, and the checks every console page passes.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { accessibilityViolations, artefact, launch, overflowing, signIn, unreachableByKeyboard, watch } from "./browser";

export interface ConsoleSession {
  context: BrowserContext;
  page: Page;
  /** What the page logged as an error or failed to load (see watch). */
  problems: string[];
}

export interface SessionOptions {
  /** Where the sign-in lands: a party's console is /admin/me. */
  landing?: string;
  viewport?: { width: number; height: number };
  acceptDownloads?: boolean;
}

/** Launches the file's browser (closed after its tests) and answers the helpers bound to the stack. */
export function consoleKit(base: string, adminToken: string) {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The API as a script calls it: the admin's token unless another is given. */
  async function api<T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<{ status: number; body: T }> {
    const res = await fetch(`${base}/api/v1${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${init.token ?? adminToken}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** A fresh browser context signed in to the console with the token. */
  async function session(token: string, options: SessionOptions = {}): Promise<ConsoleSession> {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 }, acceptDownloads: options.acceptDownloads ?? false });
    const page = await context.newPage();
    const problems = await watch(page, base);
    await signIn(page, base, token, options.landing);
    return { context, page, problems };
  }

  /** A context signed in to nothing (the sign-in page itself). */
  const newContext = (): Promise<BrowserContext> => browser.newContext();

  return { api, session, newContext };
}

/** The page passes axe, every control is reachable by keyboard, and nothing overflows a phone's width; screenshots of both widths. */
export async function checkedPage(page: Page, name: string): Promise<void> {
  expect(await accessibilityViolations(page)).toEqual([]);
  expect((await unreachableByKeyboard(page)).missed).toEqual([]);
  await page.screenshot({ path: artefact(`${name}.png`), fullPage: true });
  const url = page.url();
  const size = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto(url);
  expect(await overflowing(page)).toEqual([]);
  await page.screenshot({ path: artefact(`${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size ?? { width: 1280, height: 900 });
}
