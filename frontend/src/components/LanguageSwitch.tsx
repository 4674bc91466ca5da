import { SegmentedControl } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { LANGUAGES, type Language, currentLanguage } from '@/i18n';

/** Switches the interface language; `onChange` also learns of it (e.g. to save it in the profile). */
export function LanguageSwitch({ onChange }: { onChange?: (language: Language) => void }) {
  const { t, i18n } = useTranslation();
  return (
    <SegmentedControl
      size="xs"
      aria-label={t('common.language')}
      value={currentLanguage()}
      onChange={(lng) => {
        void i18n.changeLanguage(lng);
        onChange?.(lng as Language);
      }}
      data={LANGUAGES.map((l) => ({ value: l, label: l.toUpperCase() }))}
      data-testid="language-switch"
    />
  );
}
