"""Plots saved as PNG (headless; --show also opens a window; a notebook shows them under the cell).
An installed Chinese font goes behind matplotlib's usual one; without one, Chinese text is saved
as "?" and one note says what to do."""
import contextlib
import re
import warnings

from tfcourse.cli import in_notebook
from tfcourse.files import atomic_path

# Fonts that draw simplified Chinese, in order of preference (Linux, Windows, macOS names).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti", "SimHei",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK JP", "Noto Sans CJK TC",
             "Source Han Sans", "Arial Unicode MS")
INSTALL_HINT = ("install a Chinese font: `sudo apt install fonts-noto-cjk` (Debian/Ubuntu/WSL2), "
                "`sudo dnf install google-noto-sans-cjk-fonts` (Fedora); Windows, macOS have one")
CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_found, _noted = [], []  # [font name or None] once looked up; [True] once the note was printed


def cjk_font():
    """The name of an installed font that draws Chinese, or None (looked up once)."""
    if not _found:
        from matplotlib.font_manager import findSystemFonts, fontManager
        if not set(CJK_FONTS) & {font.name for font in fontManager.ttflist}:
            # installed after matplotlib cached its font list? Add the system's new font files
            for path in set(findSystemFonts()) - {font.fname for font in fontManager.ttflist}:
                with contextlib.suppress(OSError, RuntimeError, ValueError):
                    fontManager.addfont(path)
        installed = {font.name for font in fontManager.ttflist}
        _found.append(next((name for name in CJK_FONTS if name in installed), None))
        if _found[0] is None:  # Chinese is drawn as "?": a warning for each glyph would add nothing
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
    return _found[0]


def save_figure(fig, path, show=False):
    """Save `fig` as a PNG file, whole, Chinese drawn by a CJK font (else "?"); show it if asked,
    or in a notebook."""
    import matplotlib
    import matplotlib.pyplot as plt
    name, family, texts = cjk_font(), matplotlib.rcParams["font.family"], fig.findobj(plt.Text)
    tick_labels = {axis: axis.get_major_formatter().format_ticks(axis.get_ticklocs())
                   for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)} if name is None else {}
    shown = [text.get_text() for text in texts] + sum(tick_labels.values(), [])
    if name is None and not _noted and any(CJK.search(text) for text in shown):
        print(f"注意 Note: no Chinese font found, so plots show Chinese text as ?; {INSTALL_HINT}.")
        _noted.append(True)  # once per process
    if name is not None and name not in family:  # for texts drawn from now on (tick labels)
        matplotlib.rcParams["font.family"] = [*family, name]
    for text in texts:  # older texts keep the family they were made with
        if name is None:
            text.set_text(CJK.sub("?", text.get_text()))  # "?" reads better than boxes
        elif name not in text.get_fontfamily():
            text.set_fontfamily([*text.get_fontfamily(), name])
    for axis, labels in tick_labels.items():  # e.g. class names, made when drawn: "?" too
        if any(CJK.search(label) for label in labels):
            axis.set_ticks(axis.get_ticklocs(), [CJK.sub("?", label) for label in labels])
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
    print(f"saved plot: {path}")
    if show or in_notebook():  # a notebook shows it under its cell, as the teacher's did
        plt.show()
    plt.close(fig)
