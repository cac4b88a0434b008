import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useText } from '../i18n.ts';
import { vaerdispringHeader } from '../lib/session.ts';

/**
 * The værdispring dialog (docs/security.md §5): the server refused for want of a treatment
 * relation; the user states the basis and a reason, and the caller retries with the header.
 */
export function VaerdispringDialog(props: { onConfirm: (header: string) => void; onCancel: () => void }) {
  const t = useText();
  const ref = useRef<HTMLDialogElement>(null);
  const [basis, setBasis] = useState<'vital-interest' | 'consent'>('vital-interest');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    try {
      props.onConfirm(vaerdispringHeader(basis, reason));
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <dialog ref={ref} id="vaerdispring" aria-labelledby="vd-title" onCancel={props.onCancel}>
      <form onSubmit={submit}>
        <h2 id="vd-title">{t('vdTitle')}</h2>
        <p>{t('vdExplain')}</p>
        <fieldset>
          <legend>{t('vdBasis')}</legend>
          <label className="choice">
            <input
              type="radio"
              name="basis"
              value="vital-interest"
              checked={basis === 'vital-interest'}
              onChange={() => setBasis('vital-interest')}
            />{' '}
            {t('vdVital')}
          </label>
          <label className="choice">
            <input
              type="radio"
              name="basis"
              value="consent"
              checked={basis === 'consent'}
              onChange={() => setBasis('consent')}
            />{' '}
            {t('vdConsent')}
          </label>
        </fieldset>
        <label htmlFor="vd-reason">{t('vdReason')}</label>
        <textarea
          id="vd-reason"
          required
          minLength={5}
          maxLength={500}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={props.onCancel}>
            {t('cancel')}
          </button>
          <button type="submit" className="primary">
            {t('vdConfirm')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
