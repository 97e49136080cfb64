"""Chinese in plots: one installed CJK font is chosen for every figure; without one, "?" and
one note."""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from tfcourse import plots  # noqa: E402


@pytest.fixture
def fonts(monkeypatch):
    """matplotlib's font list without any CJK font; returns a function that 'installs' one by
    name."""
    latin = [font for font in font_manager.fontManager.ttflist if font.name not in plots.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", latin)
    monkeypatch.setattr(plots, "_found", [])
    monkeypatch.setattr(plots, "_noted", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda: [])  # the system's font files
    monkeypatch.setitem(matplotlib.rcParams, "font.family", ["sans-serif"])
    dejavu = font_manager.findfont("DejaVu Sans")

    def install(name):  # a real file (DejaVu) under a CJK font's name: enough for the choice
        font_manager.fontManager.ttflist.append(font_manager.FontEntry(fname=dejavu, name=name))

    return install


def test_without_a_cjk_font_chinese_shows_as_question_marks_and_one_note(fonts, tmp_path, capsys):
    assert plots.cjk_font() is None
    fig, ax = plt.subplots()
    ax.set_title("loss 0.25")
    plots.save_figure(fig, tmp_path / "latin.png")
    assert "no Chinese font" not in capsys.readouterr().out  # nothing to say for a latin plot
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(2):
            fig, ax = plt.subplots()
            title = ax.set_title("黄色 星形/图片.jpg 0.98")  # Chinese from data (9-1's names)
            plots.save_figure(fig, tmp_path / f"plot{i}.png")
    assert title.get_text() == "?? ??/??.jpg 0.98"  # "?" rather than boxes, no warning per glyph
    out = capsys.readouterr().out
    assert out.count("no Chinese font found") == 1 and "apt install fonts-noto-cjk" in out
    assert (tmp_path / "plot1.png").read_bytes()[:4] == b"\x89PNG"
    assert matplotlib.rcParams["font.family"] == ["sans-serif"]


def test_without_a_cjk_font_chinese_tick_labels_are_question_marks_too(fonts, tmp_path, capsys):
    fig, (left, right) = plt.subplots(1, 2)  # 12-2's confusion matrix of your own sounds' classes
    left.imshow([[3, 1], [0, 4]])
    left.set(xticks=[0, 1], yticks=[0, 1], yticklabels=["狗叫", "门铃 bell"])
    right.bar(["猫", "dog"], [1, 2])  # categories: labels made only when the figure is drawn
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would warn: none is drawn
        plots.save_figure(fig, tmp_path / "classes.png")
    assert [t.get_text() for t in left.get_yticklabels()] == ["??", "?? bell"]
    assert [t.get_text() for t in right.get_xticklabels()] == ["?", "dog"]
    assert [t.get_text() for t in left.get_xticklabels()] == ["0", "1"]  # numbers untouched
    assert capsys.readouterr().out.count("no Chinese font found") == 1


def test_an_installed_cjk_font_is_the_fallback_for_every_text(fonts, tmp_path, capsys):
    fonts("WenQuanYi Zen Hei")
    fonts("Noto Sans CJK SC")  # preferred over WenQuanYi
    fig, ax = plt.subplots()
    title = ax.set_title("准确率 accuracy")  # made before the font was chosen
    ax.set(yticks=[0, 1], yticklabels=["狗叫", "门铃"])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph")  # the stand-in 'CJK font' is DejaVu
        plots.save_figure(fig, tmp_path / "plot.png")
    assert plots.cjk_font() == "Noto Sans CJK SC"
    assert title.get_fontfamily() == ["sans-serif", "Noto Sans CJK SC"]  # latin, then CJK
    assert [t.get_text() for t in ax.get_yticklabels()] == ["狗叫", "门铃"]
    assert all("Noto Sans CJK SC" in t.get_fontfamily() for t in ax.get_yticklabels())
    assert matplotlib.rcParams["font.family"] == ["sans-serif", "Noto Sans CJK SC"]
    assert "no Chinese font" not in capsys.readouterr().out


def test_a_font_the_system_knows_but_matplotlib_did_not_cache(fonts, monkeypatch):
    font = "/usr/share/fonts/wqy/wqy-microhei.ttc"
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda: [font])
    added = []
    monkeypatch.setattr(font_manager.fontManager, "addfont",
                        lambda path: (added.append(path), fonts("WenQuanYi Micro Hei")))
    assert plots.cjk_font() == "WenQuanYi Micro Hei" and added == [font]
