/**
 * The editor side for every JupyterLab editor: lint, lint gutter and completion are
 * switched on only while the editor's model holds UDGL (mime type `text/x-udgl`),
 * so Python, Markdown and other kernels' cells stay exactly as they were.
 *
 * The mime type of a cell changes while CodeMirror applies a keystroke (the cell's
 * source changes inside the editor's update, and `%%udgl` cells follow their source),
 * and CodeMirror refuses a dispatch during an update. So the tools are never switched
 * from the signal itself: the switch is queued for the end of the current update, and
 * every later update checks again that the tools match the mime type.
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
import { udglTypeHover } from './hover';
import { udglLinter } from './lint';

const OFF: Extension = [];

function udglTools(): Extension {
  return [udglLinter(), lintGutter(), udglAutocompletion(), udglTypeHover()];
}

function follow(model: CodeEditor.IModel): Extension {
  const tools = new Compartment();
  const on = udglTools();
  const wanted = () => (model.mimeType === UDGL_MIME ? on : OFF);
  const plugin = ViewPlugin.define((view: EditorView) => {
    let queued = false;
    let destroyed = false;
    const reconcile = () => {
      if (queued || destroyed) {
        return;
      }
      queued = true;
      // a microtask runs once the current (synchronous) update has ended
      queueMicrotask(() => {
        queued = false;
        if (!destroyed && tools.get(view.state) !== wanted()) {
          view.dispatch({ effects: tools.reconfigure(wanted()) });
        }
      });
    };
    model.mimeTypeChanged.connect(reconcile);
    reconcile();
    return {
      update: () => {
        if (tools.get(view.state) !== wanted()) {
          reconcile();
        }
      },
      destroy: () => {
        destroyed = true;
        model.mimeTypeChanged.disconnect(reconcile);
      }
    };
  });
  return [tools.of(wanted()), plugin];
}

/** Registered with JupyterLab's editor extension registry. */
export const udglEditorExtension: IEditorExtensionFactory<undefined> = {
  name: 'hogar_nb:udgl',
  factory: options =>
    EditorExtensionRegistry.createImmutableExtension(follow(options.model))
};
