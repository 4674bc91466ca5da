import { Button, Card, Chip, Group, SimpleGrid, Stack, Text, TextInput, Title, UnstyledButton } from '@mantine/core';
import IconSearch from '@tabler/icons-react/icons/IconSearch';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { App } from '@/api/types';
import { AppIcon } from '@/components/AppIcon';
import { localized } from '@/i18n';
import { GALLERY_CATEGORIES, type GalleryCategory, appLabel, filterApps } from './gallery';

/** The first step's gallery: every source app, found by a word in ru or en, or by category. */
export function SourceGallery({ apps, selected, onPick, disabled }: { apps: App[]; selected: string; onPick: (a: App) => void; disabled?: boolean }) {
  const { t } = useTranslation();
  const [query, setQuery] = useState('');
  const [category, setCategory] = useState<GalleryCategory>('all');
  const shown = filterApps(apps, query, category);
  // One name: the chips are one radio group, a single tab stop moved through with the arrow keys.
  const groupName = useId();

  return (
    <Stack gap="sm">
      <Title order={4}>{t('wizard.gallery.title')}</Title>
      <TextInput
        leftSection={<IconSearch size={16} />}
        placeholder={t('wizard.gallery.search')}
        aria-label={t('wizard.gallery.search')}
        value={query}
        onChange={(e) => setQuery(e.currentTarget.value)}
        data-testid="app-search"
      />
      <Chip.Group multiple={false} value={category} onChange={(v) => setCategory(v as GalleryCategory)}>
        <Group gap="xs" role="radiogroup" aria-label={t('wizard.gallery.categories')}>
          {GALLERY_CATEGORIES.map((c) => (
            <Chip key={c} value={c} name={groupName} size="sm" variant="outline" data-testid={`category-${c}`}>
              {t(`wizard.gallery.category.${c}`)}
            </Chip>
          ))}
        </Group>
      </Chip.Group>
      {shown.length === 0 ? (
        <Card padding="lg" bg="gray.0" data-testid="gallery-empty">
          <Stack gap="xs" align="center">
            <Text fw={500}>{t('wizard.gallery.nothingFound', { query: query.trim() })}</Text>
            <Text size="sm" c="dimmed" ta="center">
              {t('wizard.gallery.nothingFoundHelp')}
            </Text>
            <Button
              variant="light"
              size="xs"
              onClick={() => {
                setQuery('');
                setCategory('all');
              }}
            >
              {t('wizard.gallery.showAll')}
            </Button>
          </Stack>
        </Card>
      ) : (
        <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }}>
          {shown.map((a) => {
            const on = a.name === selected;
            return (
              <UnstyledButton
                key={a.name}
                aria-pressed={on}
                aria-label={appLabel(a, t)}
                disabled={disabled}
                onClick={() => onPick(a)}
                data-testid={`source-app-${a.name}`}
              >
                <Card
                  padding="sm"
                  h="100%"
                 
                  style={{
                    borderColor: on ? 'var(--mantine-color-indigo-5)' : undefined,
                    borderWidth: on ? 2 : 1,
                    background: on ? 'var(--mantine-color-indigo-0)' : undefined,
                  }}
                >
                  <Group wrap="nowrap" gap="sm" align="flex-start">
                    <AppIcon app={a.name} size={32} />
                    <Stack gap={0} miw={0}>
                      <Text fw={500} size="sm">
                        {appLabel(a, t)}
                      </Text>
                      <Text size="xs" c="dimmed" lineClamp={2}>
                        {localized(a.description, t(`apps.${a.name}Description`, { defaultValue: '' }))}
                      </Text>
                    </Stack>
                  </Group>
                </Card>
              </UnstyledButton>
            );
          })}
        </SimpleGrid>
      )}
    </Stack>
  );
}
