/**
 * UDGL in JupyterLab's completer (Tab): a provider ranked above the kernel's and the
 * document words' providers, for editors that hold UDGL (a `%%udgl` cell, a `.udgl`
 * file). Tab lists the words that extend the one typed, UDGL's first; the kernel's
 * follow (in a `%%udgl` cell they are the same words, and JupyterLab shows each once).
 */
import { closeCompletion } from '@codemirror/autocomplete';
import {
  CompletionHandler,
  ICompletionContext,
  ICompletionProvider
} from '@jupyterlab/completer';
import { CodeMirrorEditor } from '@jupyterlab/codemirror';

import { ICompleteReply, post } from './api';
import { UDGL_MIME } from './language';
import { isUDGLCell } from './mode';

export class UDGLCompletionProvider implements ICompletionProvider {
  readonly identifier = 'hogar_nb:udgl';
  /** JupyterLab's own providers rank about 500; 1000 and up come first. */
  readonly rank = 1000;
  readonly renderer = null;

  async isApplicable(context: ICompletionContext): Promise<boolean> {
    return context.editor?.model.mimeType === UDGL_MIME;
  }

  async fetch(
    request: CompletionHandler.IRequest,
    context: ICompletionContext
  ): Promise<CompletionHandler.ICompletionItemsReply> {
    const { text, offset } = request;
    const before = text.slice(0, offset);
    const lineStart = before.lastIndexOf('\n') + 1;
    // one list at a time: the editor's own (as-you-type) list gives way to this one
    const editor = context.editor;
    if (editor instanceof CodeMirrorEditor) {
      queueMicrotask(() => closeCompletion(editor.editor));
    }
    const reply = await post<ICompleteReply>('complete', {
      text,
      line: before.split('\n').length,
      column: offset - lineStart + 1,
      cell: isUDGLCell(text)
    });
    const items = reply.items
      .filter(item => item.label.startsWith(reply.prefix))
      .map(item => ({
        label: item.label,
        insertText: item.apply ?? item.label,
        type: item.type,
        documentation: [item.detail, item.info].filter(Boolean).join(': ') || undefined
      }));
    return { start: offset - reply.prefix.length, end: offset, items };
  }
}
