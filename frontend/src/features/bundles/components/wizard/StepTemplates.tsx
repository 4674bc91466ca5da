import { Button, Card, SimpleGrid, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { DraftStep } from './stepsModel';
import { TEMPLATES, templateSteps } from './templates';

/** The ready bundles of steps, offered before the first step is set up. */
export function StepTemplates({ onPick }: { onPick: (steps: DraftStep[]) => void }) {
  const { t } = useTranslation();
  return (
    <Stack gap="xs" data-testid="step-templates">
      <Text size="sm" fw={600}>
        {t('steps.templates.title')}
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        {TEMPLATES.map((id) => (
          <Card key={id} withBorder padding="sm">
            <Text size="sm" fw={600}>
              {t(`steps.templates.${id}.title`)}
            </Text>
            <Text size="xs" c="dimmed" mb="xs">
              {t(`steps.templates.${id}.help`)}
            </Text>
            <Button size="xs" variant="light" mt="auto" onClick={() => onPick(templateSteps(id, t))} data-testid={`template-${id}`}>
              {t('steps.templates.use')}
            </Button>
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  );
}
