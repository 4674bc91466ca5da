import { SegmentedControl } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { LANGUAGES, currentLanguage } from '@/i18n';

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <SegmentedControl
      size="xs"
      aria-label={t('common.language')}
      value={currentLanguage()}
      onChange={(lng) => void i18n.changeLanguage(lng)}
      data={LANGUAGES.map((l) => ({ value: l, label: l.toUpperCase() }))}
      data-testid="language-switch"
    />
  );
}
