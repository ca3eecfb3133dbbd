// Taking a key (or a set) back outside the Desk, as the Desk does it: the core plans the
// return (desk_plan, nothing written; a refusal is thrown), the signature pad opens (the
// register may require a signature), and desk_hand_over returns it with its receipt.
// Used by offboarding and by the stocktake's "Return"; it never decides a rule itself.

import { invoke, t } from './admin-common.js';
import { signaturePad } from './signature-pad.js';

/**
 * Returns the key or set `text` names (no person chosen: a scan of a key that is out
 * returns it). Resolves with the Desk's outcome, {repeat} for a double read, or null
 * when the pad was cancelled.
 * @param {string} text a key number, or a set's tag or name
 * @returns {Promise<any>}
 */
export async function takeBack(text) {
  const args = { text, personId: null, due: null, comment: null, overrideReason: null };
  const plan = await invoke('desk_plan', { args });
  if (plan.step === 'repeat') return { repeat: plan };
  const many = plan.keys.length > 1;
  const vars = { keys: plan.keys.join(', '), set: plan.set || '', name: plan.person_name || '' };
  const pad = await signaturePad({
    title: t(`pad.title_${plan.step === 'issue' ? 'issue' : 'return'}_${plan.set ? 'set' : (many ? 'many' : 'one')}`, vars),
    detail: plan.person_name ? t(plan.step === 'issue' ? 'pad.detail_issue' : 'pad.detail_return', vars) : '',
    required: plan.signature_required,
    // A set coming back: its keys are checked off, as at the Desk.
    keys: plan.set && many && plan.step === 'return' ? plan.keys : undefined,
    holder: plan.person_name || '',
    check: async (missing) => {
      try { await invoke('desk_plan', { args: { ...args, missing } }); return null; } catch (err) { return err.message; }
    },
  });
  if (!pad) return null;
  return invoke('desk_hand_over', { args: { ...args, signature: pad.signature, missing: pad.missing } });
}
