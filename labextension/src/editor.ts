/**
 * The editor side for every JupyterLab editor: lint, lint gutter and completion are
 * switched on only while the editor's model holds UDGL (mime type `text/x-udgl`),
 * so Python, Markdown and other kernels' cells stay exactly as they were.
 */
import { CodeEditor } from '@jupyterlab/codeeditor';
import {
  EditorExtensionRegistry,
  IEditorExtensionFactory
} from '@jupyterlab/codemirror';
import { lintGutter } from '@codemirror/lint';
import { Compartment, Extension } from '@codemirror/state';
import { EditorView, ViewPlugin } from '@codemirror/view';

import { udglAutocompletion } from './complete';
import { UDGL_MIME } from './language';
import { udglLinter } from './lint';

function udglTools(): Extension {
  return [udglLinter(), lintGutter(), udglAutocompletion()];
}

function follow(model: CodeEditor.IModel): Extension {
  const tools = new Compartment();
  const active = () => model.mimeType === UDGL_MIME;
  const plugin = ViewPlugin.define((view: EditorView) => {
    let on = active();
    const update = () => {
      if (active() !== on) {
        on = active();
        view.dispatch({ effects: tools.reconfigure(on ? udglTools() : []) });
      }
    };
    model.mimeTypeChanged.connect(update);
    return {
      destroy: () => {
        model.mimeTypeChanged.disconnect(update);
      }
    };
  });
  return [tools.of(active() ? udglTools() : []), plugin];
}

/** Registered with JupyterLab's editor extension registry. */
export const udglEditorExtension: IEditorExtensionFactory<undefined> = {
  name: 'hogar_nb:udgl',
  factory: options =>
    EditorExtensionRegistry.createImmutableExtension(follow(options.model))
};
