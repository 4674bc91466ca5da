import { Group, Text } from '@mantine/core';

export function Logo({ size = 28, withText = false }: { size?: number; withText?: boolean }) {
  return (
    <Group gap={8} wrap="nowrap">
      <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true">
        <rect width="32" height="32" rx="8" fill="var(--mantine-color-indigo-6)" />
        <path
          d="M9 16h6m2 0h6M13 11l-4 5 4 5m6-10 4 5-4 5"
          stroke="#fff"
          strokeWidth="2.5"
          fill="none"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      </svg>
      {withText && (
        <Text fw={700} size="lg" style={{ letterSpacing: '-0.02em' }}>
          bpmlink
        </Text>
      )}
    </Group>
  );
}
