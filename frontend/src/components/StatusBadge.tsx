import { Badge } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { BundleStatus, OperationStatus } from '@/api/types';

export const BUNDLE_STATUS_COLOR: Record<BundleStatus, string> = {
  running: 'teal',
  waiting: 'blue',
  stopped: 'gray',
  error: 'red',
};

export const OPERATION_STATUS_COLOR: Record<OperationStatus, string> = {
  held: 'yellow',
  queued: 'gray',
  processing: 'blue',
  retrying: 'orange',
  created: 'teal',
  updated: 'cyan',
  unchanged: 'gray',
  skipped_duplicate: 'violet',
  not_found: 'grape',
  filtered: 'dark',
  failed: 'red',
  test: 'lime',
};

export function BundleStatusBadge({ status }: { status: BundleStatus }) {
  const { t } = useTranslation();
  return (
    <Badge color={BUNDLE_STATUS_COLOR[status] ?? 'gray'} variant="light" data-status={status} data-testid="bundle-status" miw="max-content">
      {t(`bundleStatus.${status}`, { defaultValue: status })}
    </Badge>
  );
}

export function OperationStatusBadge({ status }: { status: OperationStatus }) {
  const { t } = useTranslation();
  return (
    <Badge color={OPERATION_STATUS_COLOR[status] ?? 'gray'} variant="light" data-status={status} miw="max-content">
      {t(`operationStatus.${status}`, { defaultValue: status })}
    </Badge>
  );
}
