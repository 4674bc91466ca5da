import { Alert, Button, Group, Modal, Stack, Text } from '@mantine/core';
import IconLink from '@tabler/icons-react/icons/IconLink';
import { useTranslation } from 'react-i18next';
import { CopyField } from '@/components/CopyField';

export interface LinkToPass {
  title: string;
  text: string;
  link: string;
  expires: string;
  testId: string;
}

/** A single-use link the owner passes on by hand (the server sends no e-mail). */
export function LinkModal({ value, onClose }: { value: LinkToPass | null; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Modal opened={!!value} onClose={onClose} title={value?.title} size="lg">
      {value && (
        <Stack>
          <Alert color="blue" icon={<IconLink size={18} />}>
            {value.text}
          </Alert>
          <CopyField value={value.link} testId={value.testId} />
          <Text size="sm" c="dimmed">
            {t('members.linkExpires', { at: value.expires })}
          </Text>
          <Group justify="flex-end">
            <Button onClick={onClose}>{t('common.done')}</Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
