/** Commands: new `.udgl` file, format UDGL, open a `.udgl` file in the graph editor. */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentWidget } from '@jupyterlab/docregistry';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { IFormatReply, post } from './api';
import { udglIcon } from './icon';
import { UDGL_MIME } from './language';
import { isUDGLCell } from './mode';

export const CommandIDs = {
  create: 'hogar:create-udgl-file',
  format: 'hogar:format-udgl',
  openInEditor: 'hogar:open-in-graph-editor'
};

export const STARTER = `graph my_graph "What this graph serves"

source ingest { route = "/predict" }
python predict { impl = "my_service.model:predict", replicas = 2, timeout = 250ms }
sink out

ingest -> predict -> out
`;

/** The UDGL editor in focus: a `%%udgl` cell of the current notebook or a `.udgl` file. */
function currentUDGL(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker,
  editors: IEditorTracker | null
): { model: CodeEditor.IModel; cell: boolean; path: string } | null {
  const current = app.shell.currentWidget;
  if (current && current === notebooks.currentWidget) {
    const cell = notebooks.activeCell;
    if (cell && cell.model.type === 'code' && isUDGLCell(cell.model.sharedModel.getSource())) {
      return { model: cell.model, cell: true, path: notebooks.currentWidget.context.path };
    }
    return null;
  }
  if (editors && current && current === editors.currentWidget) {
    const widget = editors.currentWidget;
    if (widget.content.model.mimeType === UDGL_MIME) {
      return { model: widget.content.model, cell: false, path: widget.context.path };
    }
  }
  return null;
}

function udglPathOf(app: JupyterFrontEnd, editors: IEditorTracker | null): string | null {
  const current = app.shell.currentWidget as IDocumentWidget | null;
  if (editors && current && current === editors.currentWidget) {
    const path = editors.currentWidget.context.path;
    return path.endsWith('.udgl') ? path : null;
  }
  return null;
}

export function addCommands(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker,
  editors: IEditorTracker | null,
  cwd: () => string,
  selectedFile: () => string | null
): void {
  const { commands } = app;

  commands.addCommand(CommandIDs.create, {
    label: 'UDGL Graph File',
    caption: 'Create a new UDGL serving-graph file',
    icon: args => (args.isPalette ? undefined : udglIcon),
    execute: async args => {
      const dir = (args.cwd as string) ?? cwd();
      const model = await app.serviceManager.contents.newUntitled({
        path: dir,
        type: 'file',
        ext: '.udgl'
      });
      await app.serviceManager.contents.save(model.path, {
        type: 'file',
        format: 'text',
        content: STARTER
      });
      return commands.execute('docmanager:open', { path: model.path, factory: 'Editor' });
    }
  });

  commands.addCommand(CommandIDs.format, {
    label: 'Format UDGL',
    caption: 'Rewrite the UDGL cell or file in the canonical layout',
    isEnabled: () => currentUDGL(app, notebooks, editors) !== null,
    isVisible: () => currentUDGL(app, notebooks, editors) !== null,
    execute: async () => {
      const target = currentUDGL(app, notebooks, editors);
      if (!target) {
        return;
      }
      const source = target.model.sharedModel.getSource();
      const reply = await post<IFormatReply>('format', { text: source, cell: target.cell });
      if (reply.text === null) {
        const first = reply.diagnostics[0];
        Notification.warning(
          `Cannot format: ${first ? `line ${first.line}: ${first.message}` : 'the text does not parse'}`,
          { autoClose: 5000 }
        );
        return;
      }
      if (reply.changed && target.model.sharedModel.getSource() === source) {
        target.model.sharedModel.setSource(reply.text);
      }
    }
  });

  commands.addCommand(CommandIDs.openInEditor, {
    label: 'Open in Graph Editor',
    caption: 'Open this UDGL graph in the drag-and-drop graph editor, in a new notebook',
    isEnabled: () => (selectedFile() ?? udglPathOf(app, editors)) !== null,
    execute: async () => {
      const path = selectedFile() ?? udglPathOf(app, editors);
      if (!path) {
        return;
      }
      const dir = PathExt.dirname(path);
      const model = await app.serviceManager.contents.newUntitled({
        path: dir,
        type: 'notebook'
      });
      const panel = (await commands.execute('docmanager:open', {
        path: model.path,
        factory: 'Notebook',
        kernel: { name: 'python3' }
      })) as NotebookPanel;
      await panel.context.ready;
      const name = PathExt.basename(path);
      const source = [
        '%load_ext hogar_nb',
        'import hogar_nb',
        '',
        `# edit ${name} with the mouse; editor.to_udgl() gives the UDGL text back`,
        `editor = hogar_nb.edit(${JSON.stringify(name)})`,
        'editor'
      ].join('\n');
      const cell = panel.content.model?.cells.get(0);
      cell?.sharedModel.setSource(source);
      await panel.sessionContext.ready;
      panel.content.activeCellIndex = 0;
      await commands.execute('notebook:run-cell');
      return panel;
    }
  });
}
