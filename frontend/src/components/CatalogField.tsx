import { Badge, Checkbox, Group, JsonInput, NumberInput, PasswordInput, Select, Stack, Text, Textarea, TextInput } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppField } from '@/api/types';
import { localized } from '@/i18n';

export interface FieldInputProps {
  value?: unknown;
  checked?: boolean;
  onChange: (v: unknown) => void;
  error?: ReactNode;
}

/** A value from either an input event or a plain value (Mantine inputs send both). */
export function eventValue(v: unknown): unknown {
  if (v && typeof v === 'object' && 'currentTarget' in v) {
    const el = (v as { currentTarget: HTMLInputElement }).currentTarget;
    return el.type === 'checkbox' ? el.checked : el.value;
  }
  return v;
}

/** Renders one field declared by the app catalog (connection form, trigger config). */
export function CatalogField({ field, inputProps, secretSet, disabled }: { field: AppField; inputProps: FieldInputProps; secretSet?: boolean; disabled?: boolean }) {
  const { t } = useTranslation();
  const label = localized(field.label, field.name);
  const description = localized(field.help) || undefined;
  const { value, onChange, error } = inputProps;
  const common = { label, description, required: !!field.required && !secretSet, error, disabled, 'data-field': field.name };
  if (field.secret || field.type === 'password') {
    return (
      <PasswordInput
        {...common}
        label={<SecretLabel label={label} set={!!secretSet} />}
        value={(value as string | undefined) ?? ''}
        onChange={onChange}
        placeholder={secretSet ? t('connections.secretKeep') : undefined}
        autoComplete="new-password"
      />
    );
  }
  if (field.type === 'boolean') {
    return <Checkbox {...common} checked={inputProps.checked ?? !!value} onChange={(e) => onChange(e.currentTarget.checked)} />;
  }
  if (field.type === 'integer' || field.type === 'number') {
    return <NumberInput {...common} value={(value as number | string | undefined) ?? ''} onChange={onChange} />;
  }
  if (field.type === 'text') {
    // Several lines (one network per line, a template …).
    return <Textarea {...common} value={(value as string | undefined) ?? ''} onChange={onChange} autosize minRows={2} maxRows={8} />;
  }
  if (field.type === 'json') {
    return <JsonInput {...common} value={(value as string | undefined) ?? ''} onChange={onChange} autosize minRows={3} formatOnBlur />;
  }
  if (field.type === 'select' || (field.options && field.options.length > 0)) {
    // A plain option's words and help come from the dictionaries (`catalogOptions.<field>.<option>`), else the key.
    const words = (o: string) => t(`catalogOptions.${field.name}.${o}.label`, { defaultValue: o });
    const help = (o: string) => t(`catalogOptions.${field.name}.${o}.help`, { defaultValue: '' });
    const data = (field.options ?? []).map((o) =>
      typeof o === 'object' ? { value: String(o.value), label: localized(o.label, String(o.value)) } : { value: String(o), label: words(String(o)) },
    );
    const chosen = value == null ? '' : help(String(value));
    return (
      <Select
        {...common}
        description={chosen || description}
        value={value == null ? null : String(value)}
        onChange={onChange}
        data={data}
        allowDeselect={false}
        renderOption={({ option }) => (
          <Stack gap={0}>
            <Text size="sm">{option.label}</Text>
            {help(option.value) && (
              <Text size="xs" c="dimmed">
                {help(option.value)}
              </Text>
            )}
          </Stack>
        )}
      />
    );
  }
  return <TextInput {...common} value={(value as string | undefined) ?? ''} onChange={onChange} type={field.type === 'url' ? 'url' : 'text'} />;
}

export function SecretLabel({ label, set }: { label: string; set: boolean }) {
  const { t } = useTranslation();
  return (
    <Group gap={6} component="span" display="inline-flex">
      {label}
      {set && (
        <Badge size="xs" color="teal" variant="light" component="span" data-testid="secret-set">
          {t('connections.secretSet')}
        </Badge>
      )}
    </Group>
  );
}
