/** Completion from the server's view of the core's kind table and the text's own names. */
import {
  Completion,
  CompletionContext,
  CompletionResult,
  autocompletion
} from '@codemirror/autocomplete';

import { ICompleteReply, post } from './api';
import { modeOf } from './mode';

/** Right after one of these (spaces allowed) something can be offered with no word typed. */
const TRIGGER = /(^|[{,=[]|->)\s*$/;
/** The word the options replace. */
const WORD = /^\$?[A-Za-z0-9_]*$/;

export async function udglCompletions(
  context: CompletionContext
): Promise<CompletionResult | null> {
  const word = context.matchBefore(/\$?[A-Za-z_][A-Za-z0-9_]*$|\$$/);
  const line = context.state.doc.lineAt(context.pos);
  const before = line.text.slice(0, context.pos - line.from);
  const cell = modeOf(context.state.doc) === 'cell';
  if ((cell && line.number === 1) || (!word && !context.explicit && !TRIGGER.test(before))) {
    return null; // a cell's first line is the magic's, not UDGL
  }
  const reply = await post<ICompleteReply>('complete', {
    text: context.state.doc.toString(),
    line: line.number,
    column: context.pos - line.from + 1,
    cell
  });
  // an option that is exactly the word typed adds nothing, and would take the Enter
  // that ends the line
  const items = reply.items.filter(item => item.label !== reply.prefix);
  if (context.aborted || items.length === 0) {
    return null;
  }
  const labels = new Set(items.map(item => item.label));
  const options: Completion[] = items.map(item => ({
    label: item.label,
    type: item.type,
    detail: item.detail,
    info: item.info,
    apply: item.apply
  }));
  return {
    from: context.pos - reply.prefix.length,
    options,
    // typing on narrows these options, until the word is one of them
    validFor: (text: string) => WORD.test(text) && !labels.has(text)
  };
}

export function udglAutocompletion() {
  return autocompletion({ override: [udglCompletions], activateOnTyping: true });
}
