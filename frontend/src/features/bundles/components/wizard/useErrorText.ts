import { useTranslation } from 'react-i18next';

/** Errors are i18n keys from the step schemas or plain messages from the server. */
export function useErrorText(errors: Record<string, string>) {
  const { t } = useTranslation();
  return (path: string): string | undefined => {
    const e = errors[path];
    return e ? t(e, { defaultValue: e }) : undefined;
  };
}
