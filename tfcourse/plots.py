"""Plots saved as PNG (headless; --show also opens a window), with Chinese drawn as characters:
an installed Chinese font goes behind matplotlib's usual one. Without one, Chinese text is saved
as "?" and one note says how to get a font."""
import contextlib
import re
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
                "(Microsoft YaHei) and macOS (PingFang SC) have one")
CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_found, _noted = [], []  # [font name or None] once looked up; [True] once the note was printed


def _fontconfig_files():
    """Chinese font files fontconfig knows (Linux/WSL2): one installed after matplotlib cached
    its font list is found too."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=3).stdout
    except (OSError, subprocess.SubprocessError):  # no fc-list (Windows, macOS)
        return []
    files = [line.split(":")[0].strip() for line in out.splitlines()]
    return [name for name in files if name.lower().endswith((".ttf", ".otf", ".ttc"))]


def _first_cjk_font():
    from matplotlib import font_manager
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def cjk_font():
    """The name of an installed font that draws Chinese, or None (looked up once)."""
    if not _found:
        from matplotlib import font_manager
        if _first_cjk_font() is None:
            for path in _fontconfig_files():
                with contextlib.suppress(OSError, RuntimeError, ValueError):
                    font_manager.fontManager.addfont(path)
        _found.append(_first_cjk_font())
    return _found[0]


def save_figure(fig, path, show=False):
    """Save `fig` to `path` (PNG) whole, with its Chinese drawn by a CJK font (else as "?", with
    one note); say where, and show it when asked; return the path."""
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.text import Text
    name, path, family = cjk_font(), Path(path), matplotlib.rcParams["font.family"]
    if name is None and not _noted:  # once per process; then matplotlib's warnings add nothing
        print("注意 Note: no Chinese font found, so plots show Chinese text as ?; "
              f"{INSTALL_HINT}.")
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        _noted.append(True)
    if name is not None and name not in family:  # for texts drawn from now on (tick labels)
        matplotlib.rcParams["font.family"] = [*family, name]
    for text in fig.findobj(Text):  # texts made before now keep the family they were made with
        if name is None:
            text.set_text(CJK.sub("?", text.get_text()))  # "?" reads better than boxes
        elif name not in text.get_fontfamily():
            text.set_fontfamily([*text.get_fontfamily(), name])
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    print(f"saved plot: {path}")
    if show:
        plt.show()
    plt.close(fig)
    return path
