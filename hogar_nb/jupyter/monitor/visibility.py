"""Whether a live view is on screen, reported by the page, so the kernel draws only
what someone can see.

:class:`Visibility` is a zero-size anywidget put inside a view's box. In the page it
watches that box with an ``IntersectionObserver`` (scrolled out of view, or in a
hidden JupyterLab tab, where the box has no layout) and the document's
``visibilitychange`` (a background browser tab), and sets ``visible``. Until a page
reports, and in places that render no widget, the view counts as visible.
"""

from __future__ import annotations

import anywidget
import traitlets

from ..rendering import RENDERED_JS, RenderReport

__all__ = ["Visibility"]

_ESM = """
function render({ model, el }) {
  """ + RENDERED_JS + """
  el.style.cssText = 'width:0;height:0;overflow:hidden';
  el.dataset.hogarVisibility = 'watching';  // rendered: its model is up (tests wait for it)
  let inView = true, observer = null;
  const send = () => {
    const shown = inView && document.visibilityState === 'visible';
    if (model.get('visible') !== shown) { model.set('visible', shown); model.save_changes(); }
  };
  const watch = () => {
    const box = el.closest(model.get('selector')) || el.parentElement;
    if (!box) { requestAnimationFrame(watch); return; }
    observer = new IntersectionObserver(entries => {
      inView = entries[entries.length - 1].isIntersecting; send();
    });
    observer.observe(box);
  };
  requestAnimationFrame(watch);
  document.addEventListener('visibilitychange', send);
  return () => {
    if (observer) observer.disconnect();
    document.removeEventListener('visibilitychange', send);
  };
}
export default { render };
"""


class Visibility(RenderReport, anywidget.AnyWidget):
    """``visible``: whether the closest element matching ``selector`` is on screen."""

    _esm = _ESM
    visible = traitlets.Bool(True).tag(sync=True)
    selector = traitlets.Unicode(".hogar-monitor").tag(sync=True)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._watch_rendering()
