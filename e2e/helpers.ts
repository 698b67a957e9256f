// Shared by the e2e specs: screenshots at both window sizes, and the check that a screen
// fits its window (no sideways scrolling, no action cut off).

import fs from 'node:fs';
import path from 'node:path';
import { expect, type Page } from '@playwright/test';
import { SCREENSHOTS } from '../test/helpers/appliance.js';

/**
 * The whole page at 1280x800 (name.png) and at 800x600 (name-800x600.png), the window left
 * at 1280x800. Toasts are cleared first: they are fixed to the window, so a whole-page picture
 * would show them over the middle of the screen.
 */
export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  await page.setViewportSize({ width: 800, height: 600 });
  await checkFits(page, name);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-800x600.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Nothing wider than the window (no sideways scrolling of the page), and every visible control inside it. */
export async function checkFits(page: Page, screen: string): Promise<void> {
  const width = page.viewportSize()!.width;
  const found = await page.evaluate(() => {
    const doc = document.documentElement;
    const outside = [...document.querySelectorAll<HTMLElement>('button, summary, a, input, select, textarea, progress, .card')]
      .filter((e) => e.offsetParent !== null && !e.closest('.toast'))
      .map((e) => {
        const r = e.getBoundingClientRect();
        return { what: `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} "${(e.textContent ?? '').trim().slice(0, 30)}"`, left: r.left, right: r.right };
      })
      .filter((b) => b.left < -0.5 || b.right > doc.clientWidth + 0.5);
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, outside };
  });
  expect(found.outside, `${screen}: cut off at ${width} px`).toEqual([]);
  expect(found.scrollWidth, `${screen}: the page scrolls sideways at ${width} px`).toBeLessThanOrEqual(found.clientWidth);
}
