import { getAll } from './api';
import { useI18n } from './i18n';
import type { ResourceClass } from './types';
import { useAsync } from './ui';

// The resource-class picker the market and guidance pages open with; both start on the same class.

export const DEFAULT_RESOURCE_CLASS = 'nvidia-h100-sxm-80g';

export const ResourceClassFilter = ({
  value,
  onChange,
  testId,
}: {
  value: string;
  onChange: (resourceClass: string) => void;
  testId: string;
}) => {
  const { t } = useI18n();
  const [classes] = useAsync(() => getAll<ResourceClass>('/v1/resource-classes'), []);
  return (
    <div className="filters">
      <label>
        {t('market.resourceClass')}{' '}
        <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
          {classes.state === 'ready' &&
            classes.value.map((c) => (
              <option key={c.resourceClassId} value={c.resourceClassId}>
                {c.vendor} {c.model}
              </option>
            ))}
        </select>
      </label>
    </div>
  );
};
