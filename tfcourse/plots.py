"""Plots saved as PNG (headless; --show also opens a window), with Chinese drawn as characters.

An installed Chinese font goes behind matplotlib's usual one, so Chinese labels do not draw as
boxes; without one, `label("准确率", "accuracy")` gives the English, other Chinese text (file and
class names) is saved as "?", and one note says how to get a font.
"""
import re
import shutil
import subprocess
import warnings
from pathlib import Path

from tfcourse.files import atomic_path

# Fonts that draw simplified Chinese, in order of preference (Linux, Windows, macOS names).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti", "SimHei",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK JP", "Noto Sans CJK TC",
             "Source Han Sans", "Arial Unicode MS")
INSTALL_HINT = ("install a Chinese font, e.g. `sudo apt install fonts-noto-cjk` (Debian/Ubuntu/"
                "WSL2) or `sudo dnf install google-noto-sans-cjk-fonts` (Fedora); Windows "
                "(Microsoft YaHei) and "
                "macOS (PingFang SC) have one")
CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_found, _noted = [], []  # [font name or None] once looked up; [True] once the note was printed


def _fontconfig_files():
    """Chinese font files fontconfig knows (Linux/WSL2), for a font installed after matplotlib
    cached its list."""
    if not shutil.which("fc-list"):
        return []
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=3).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(":")[0].strip() for line in out.splitlines()
            if line.split(":")[0].strip().lower().endswith((".ttf", ".otf", ".ttc"))]


def cjk_font():
    """The name of an installed font that draws Chinese, or None."""
    if not _found:
        from matplotlib import font_manager
        installed = {font.name for font in font_manager.fontManager.ttflist}
        if not any(name in installed for name in CJK_FONTS):
            for path in _fontconfig_files():
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    pass
            installed = {font.name for font in font_manager.fontManager.ttflist}
        _found.append(next((name for name in CJK_FONTS if name in installed), None))
    return _found[0]


def use_cjk_font(fig=None):
    """Put an installed CJK font behind "sans-serif" (matplotlib 3.6+ takes each missing glyph from
    it), also in `fig`'s existing texts; return its name. Without one, `fig`'s Chinese becomes "?"
    and one note says how to get a font; return None."""
    import matplotlib
    from matplotlib.text import Text
    name = cjk_font()
    family = matplotlib.rcParams["font.family"]
    if name is None:
        if not _noted:  # once per process; then matplotlib's per-glyph warnings add nothing
            print("注意 Note: no Chinese font found, so plots use English labels and show other "
                  f"Chinese text as ?; {INSTALL_HINT}.")
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
            _noted.append(True)
        if fig is not None:  # "?" reads better than boxes
            for text in fig.findobj(Text):
                text.set_text(CJK.sub("?", text.get_text()))
        return None
    if name not in family:
        matplotlib.rcParams["font.family"] = [*family, name]
    if fig is not None:  # texts made before now keep the family they were made with
        for text in fig.findobj(Text):
            if name not in text.get_fontfamily():
                text.set_fontfamily([*text.get_fontfamily(), name])
    return name


def label(chinese, english=None):
    """`chinese` when a font can draw it, else `english` (or, without one, `chinese` as it is)."""
    return chinese if cjk_font() is not None or english is None else english


def save_figure(fig, path, show=False):
    """Save `fig` to `path` (PNG) whole, say where, and show it when asked; return the path."""
    import matplotlib.pyplot as plt
    path = Path(path)
    use_cjk_font(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    print(f"saved plot: {path}")
    if show:
        plt.show()
    plt.close(fig)
    return path
