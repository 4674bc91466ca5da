import type { Locator } from '@playwright/test';

/**
 * English sentences in text: three or more Latin words in a row, outside URLs and code names
 * (CamelCase such as MobilePhone, snake_case keys such as phone_e164).
 */
export function englishIn(text: string): string[] {
  const words = text
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/\b[A-Za-z]*[a-z][A-Z]\w*\b/g, ' ') // CamelCase code names
    .replace(/\b\w+_\w+\b/g, ' '); // snake_case keys
  return [...words.matchAll(/[A-Za-z][A-Za-z'’]*(?:[ ,:;()-]+[A-Za-z][A-Za-z'’]*){2,}/g)].map((m) => m[0]);
}

/**
 * English sentences in a rendered part of the page (`englishIn` of its text), outside <code>, <style>,
 * bpm'online's own words (shown labelled, `data-testid=remote-text`) and the parts named in `skip`
 * (their test ids: e.g. recorded HTTP exchanges, which are protocol data, not words for a person).
 */
export async function englishSentences(scope: Locator, skip: string[] = []): Promise<string[]> {
  const text = await scope.evaluate((root, skipped) => {
    const apart = new Set(['remote-text', ...skipped]);
    const parts: string[] = [];
    const walk = (node: Node) => {
      if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent ?? '');
      if (!(node instanceof Element)) return;
      if (['CODE', 'STYLE', 'SCRIPT'].includes(node.tagName) || apart.has(node.getAttribute('data-testid') ?? '')) return;
      node.childNodes.forEach(walk);
      if (getComputedStyle(node).display !== 'inline') parts.push('\n');
    };
    walk(root);
    return parts.join('');
  }, skip);
  return englishIn(text);
}
