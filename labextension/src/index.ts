/**
 * hogar_nb's JupyterLab / Notebook 7 extension: the UDGL language (highlighting,
 * live diagnostics, completion, formatting) for `%%udgl` cells and `.udgl` files,
 * the `.udgl` document type, and "Open in Graph Editor".
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import {
  IEditorExtensionRegistry,
  IEditorLanguageRegistry
} from '@jupyterlab/codemirror';
import { ICompletionProviderManager } from '@jupyterlab/completer';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { IEditorTracker } from '@jupyterlab/fileeditor';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker } from '@jupyterlab/notebook';
import { followUDGLCells } from './cells';
import { CommandIDs, addCommands } from './commands';
import { udglEditorExtension } from './editor';
import { udglIcon } from './icon';
import { UDGL_MIME, udgl } from './language';
import { UDGLCompletionProvider } from './provider';

const language: JupyterFrontEndPlugin<void> = {
  id: 'hogar_nb:language',
  description: 'The UDGL language for CodeMirror: highlighting, lint and completion.',
  autoStart: true,
  requires: [IEditorLanguageRegistry, IEditorExtensionRegistry],
  activate: (
    app: JupyterFrontEnd,
    languages: IEditorLanguageRegistry,
    extensions: IEditorExtensionRegistry
  ) => {
    languages.addLanguage({
      name: 'UDGL',
      displayName: 'UDGL',
      mime: UDGL_MIME,
      extensions: ['udgl'],
      load: async () => udgl()
    });
    extensions.addExtension(udglEditorExtension);
  }
};

const cells: JupyterFrontEndPlugin<void> = {
  id: 'hogar_nb:cells',
  description: 'Edit %%udgl cells as UDGL.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker) => {
    followUDGLCells(notebooks);
  }
};

const completer: JupyterFrontEndPlugin<void> = {
  id: 'hogar_nb:completer',
  description: 'UDGL words first when Tab completes in a UDGL editor.',
  autoStart: true,
  requires: [ICompletionProviderManager],
  activate: (app: JupyterFrontEnd, providers: ICompletionProviderManager) => {
    providers.registerProvider(new UDGLCompletionProvider());
  }
};

const documents: JupyterFrontEndPlugin<void> = {
  id: 'hogar_nb:documents',
  description: 'The .udgl file type and the UDGL commands.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IEditorTracker, IDefaultFileBrowser, ILauncher, IMainMenu, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    editors: IEditorTracker | null,
    browser: IDefaultFileBrowser | null,
    launcher: ILauncher | null,
    mainMenu: IMainMenu | null,
    palette: ICommandPalette | null
  ) => {
    app.docRegistry.addFileType({
      name: 'udgl',
      displayName: 'UDGL graph',
      extensions: ['.udgl'],
      mimeTypes: [UDGL_MIME],
      icon: udglIcon,
      contentType: 'file',
      fileFormat: 'text'
    });
    const selectedFile = () => {
      if (!browser) {
        return null;
      }
      const item = browser.selectedItems().next();
      const model = item && !item.done ? item.value : null;
      return model && model.path.endsWith('.udgl') ? model.path : null;
    };
    addCommands(app, notebooks, editors, () => browser?.model.path ?? '', selectedFile);
    launcher?.add({ command: CommandIDs.create, category: 'Other', rank: 20 });
    mainMenu?.fileMenu.newMenu.addGroup([{ command: CommandIDs.create }], 30);
    for (const command of [CommandIDs.create, CommandIDs.format, CommandIDs.openInEditor]) {
      palette?.addItem({ command, category: 'UDGL' });
    }
    for (const selector of ['.jp-CodeCell .jp-Editor', '.jp-FileEditor']) {
      app.contextMenu.addItem({ command: CommandIDs.format, selector, rank: 50 });
      app.commands.addKeyBinding({ command: CommandIDs.format, keys: ['Shift Alt F'], selector });
    }
    app.contextMenu.addItem({
      command: CommandIDs.openInEditor,
      selector: '.jp-DirListing-item[data-file-type="udgl"]',
      rank: 50
    });
    app.contextMenu.addItem({
      command: CommandIDs.openInEditor,
      selector: '.jp-FileEditor',
      rank: 51
    });
  }
};

export default [language, cells, completer, documents];
