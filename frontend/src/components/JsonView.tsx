import { Code, ScrollArea } from '@mantine/core';

export function formatJson(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

export function JsonView({ value, maxHeight = 320, error = false }: { value: unknown; maxHeight?: number; error?: boolean }) {
  return (
    <ScrollArea.Autosize mah={maxHeight} type="auto">
      <Code
        block
        color={error ? 'red.0' : undefined}
        style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word', fontSize: 12 }}
      >
        {formatJson(value) || '—'}
      </Code>
    </ScrollArea.Autosize>
  );
}
