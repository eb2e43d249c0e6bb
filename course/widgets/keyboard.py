"""Keys typed in Attune's widgets belong to the widget, not to the notebook's command-mode shortcuts.

JupyterLab and Notebook 7 treat a focused <select> or button in an output as "command mode": arrow keys
jump between cells, and letters act on cells ('a' inserts, 'r' turns a cell to raw, 'd d' deletes).
A keyboard-only trainee moving through a dropdown would edit the notebook instead. Lumino skips its
shortcuts for keys whose target is marked ``data-lm-suppress-shortcuts`` (the mark must sit on the focused
control itself: Lumino matches the target before it looks at ancestors). ipywidgets cannot set attributes,
so a small script (run as a live, trusted output) marks every control of every Attune widget as it appears.
"""

from __future__ import annotations

from typing import Any

WIDGET_CLASS = "attune-widget"

_MARK_WIDGETS_JS = """
(function () {
  const controls = ['select', 'input', 'button', 'textarea', '[tabindex]']
    .map((tag) => '.CLASS ' + tag + ':not([data-lm-suppress-shortcuts])').join(', ');
  const mark = () => document.querySelectorAll(controls)
    .forEach((el) => el.setAttribute('data-lm-suppress-shortcuts', 'true'));
  mark();
  if (!window.__attuneKeyboardGuard) {
    window.__attuneKeyboardGuard = new MutationObserver(mark);
    window.__attuneKeyboardGuard.observe(document.body, {childList: true, subtree: true});
  }
})();
""".replace("CLASS", WIDGET_CLASS)


def display_with_keyboard_guard(widget: Any, text: str, html: str | None = None) -> None:
    """Display ``widget`` with static stand-ins (for feedback pages and viewers without widgets) and the
    guard script."""
    from IPython.display import display

    widget.add_class(WIDGET_CLASS)
    bundle = widget._repr_mimebundle_()
    bundle["text/plain"] = text
    if html is not None:
        bundle["text/html"] = html
    display(bundle, raw=True)
    # A bare script bundle (no text/plain "<Javascript object>"): static pages drop it without a trace.
    display({"application/javascript": _MARK_WIDGETS_JS}, raw=True)
