import type { ReactNode } from 'react';
import { ApiError } from '../api.ts';
import { useText } from '../i18n.ts';
import type { Query } from '../use-query.ts';

/** A titled part of a screen that shows its own loading state and error, then its content. */
export function Section<T>(props: { id: string; title: string; query: Query<T>; children: (data: T) => ReactNode }) {
  const t = useText();
  const { query } = props;
  return (
    <section id={props.id} aria-labelledby={`${props.id}-h`} aria-busy={query.loading}>
      <h3 id={`${props.id}-h`}>{props.title}</h3>
      {query.loading && query.data === undefined && (
        <p className="loading" role="status">
          {t('loading')}
        </p>
      )}
      {query.error && <ErrorNote error={query.error} onRetry={query.reload} />}
      {query.data !== undefined && props.children(query.data)}
    </section>
  );
}

export function ErrorNote(props: { error: Error; onRetry?: () => void }) {
  const t = useText();
  const status = props.error instanceof ApiError ? ` (${props.error.status})` : '';
  return (
    <p className="error" role="alert">
      {t('error')}
      {status}: {props.error.message}{' '}
      {props.onRetry && (
        <button type="button" onClick={props.onRetry}>
          {t('retry')}
        </button>
      )}
    </p>
  );
}

/** Formats an instant in the user's language. */
export function When(props: { at?: string; locale: string; dateOnly?: boolean }) {
  if (!props.at) return null;
  const d = new Date(props.at);
  const text = props.dateOnly
    ? d.toLocaleDateString(props.locale)
    : d.toLocaleString(props.locale, { dateStyle: 'short', timeStyle: 'short' });
  return <time dateTime={props.at}>{text}</time>;
}
