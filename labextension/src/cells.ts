/**
 * `%%udgl` cells: in a Python notebook, a code cell whose first line starts with
 * `%%udgl` gets the UDGL mime type, so its editor highlights, lints and completes
 * UDGL; when the magic is removed the cell goes back to the notebook's own mime type.
 * Only code cells of notebooks whose language is Python (the magic is IPython's) are
 * looked at; markdown and raw cells, and other kernels' notebooks, are never touched.
 *
 * A keystroke changes the cell's source while CodeMirror applies it, and setting the
 * mime type there would reconfigure editors in the middle of their update (which
 * CodeMirror refuses): the mime type is set once the update has ended.
 */
import { ICellModel } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { UDGL_MIME } from './language';
import { isUDGLCell } from './mode';

const watched = new WeakSet<ICellModel>();

function watchCell(panel: NotebookPanel, cell: ICellModel): void {
  if (cell.type !== 'code' || watched.has(cell)) {
    return;
  }
  watched.add(cell);
  const sync = () => {
    if (cell.isDisposed) {
      return;
    }
    const own = panel.content.codeMimetype;
    const python = /python/.test(own);
    const wanted = python && isUDGLCell(cell.sharedModel.getSource()) ? UDGL_MIME : own;
    if (cell.mimeType !== wanted && (wanted === UDGL_MIME || cell.mimeType === UDGL_MIME)) {
      cell.mimeType = wanted;
    }
  };
  let queued = false;
  const syncLater = () => {
    if (!queued) {
      queued = true;
      queueMicrotask(() => {
        queued = false;
        sync();
      });
    }
  };
  cell.sharedModel.changed.connect((_, change) => {
    if (change.sourceChange) {
      syncLater();
    }
  });
  // the notebook resets every code cell's mime type when the kernel's language changes
  cell.mimeTypeChanged.connect(() => {
    if (cell.mimeType !== UDGL_MIME) {
      syncLater();
    }
  });
  sync();
}

function watchNotebook(panel: NotebookPanel): void {
  const attach = () => {
    const model = panel.content.model;
    if (!model) {
      return;
    }
    for (const cell of model.cells) {
      watchCell(panel, cell);
    }
    model.cells.changed.connect((_, args) => {
      if (args.type === 'add' || args.type === 'set') {
        args.newValues.forEach(cell => watchCell(panel, cell));
      }
    });
  };
  if (panel.content.model) {
    attach();
  } else {
    panel.content.modelChanged.connect(attach);
  }
}

export function followUDGLCells(tracker: INotebookTracker): void {
  tracker.widgetAdded.connect((_, panel) => watchNotebook(panel));
  tracker.forEach(panel => watchNotebook(panel));
}
