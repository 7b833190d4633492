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

export async function udglCompletions(
  context: CompletionContext
): Promise<CompletionResult | null> {
  const word = context.matchBefore(/\$?[A-Za-z_][A-Za-z0-9_]*$|\$$/);
  const line = context.state.doc.lineAt(context.pos);
  const before = line.text.slice(0, context.pos - line.from);
  if (!word && !context.explicit && !TRIGGER.test(before)) {
    return null;
  }
  const reply = await post<ICompleteReply>('complete', {
    text: context.state.doc.toString(),
    line: line.number,
    column: context.pos - line.from + 1,
    cell: modeOf(context.state.doc) === 'cell'
  });
  if (context.aborted || reply.items.length === 0) {
    return null;
  }
  const options: Completion[] = reply.items.map(item => ({
    label: item.label,
    type: item.type,
    detail: item.detail,
    info: item.info,
    apply: item.apply
  }));
  return {
    from: context.pos - reply.prefix.length,
    options,
    validFor: /^\$?[A-Za-z0-9_]*$/
  };
}

export function udglAutocompletion() {
  return autocompletion({ override: [udglCompletions], activateOnTyping: true });
}
