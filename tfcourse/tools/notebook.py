"""`python -m tfcourse notebook LESSON... | --all`: lessons as Jupyter notebooks (Colab, Kaggle).
Made from the lessons' `# %%` cells: make one again after its lesson changes."""
from pathlib import Path

from tfcourse.cli import PROJECT_ROOT, folder
from tfcourse.errors import CourseError
from tfcourse.files import atomic_write
from tfcourse.tools import command_parser
from tfcourse.tools.lessons import is_lesson, lessons

SETUP = """\
**运行 Run.** 本笔记本需要整个课程项目 tf-course-companion：上传（或 `!git clone`）项目，
`%cd` 进入项目文件夹，`!pip install -r requirements.txt`，再按顺序运行单元格。
This notebook needs the whole course project, tf-course-companion: upload (or `!git clone`) it,
`%cd` into its folder, `!pip install -r requirements.txt`, then run the cells in order.
`tfcourse.parse(parser)` takes the lesson's defaults; `tfcourse.parse(parser, "--quick")` runs
for seconds. Lesson file: `{script}`."""
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def find_lesson(name):
    """The script of lesson `name`: its number (6-1), or its file's name or path."""
    for number, script, _, _ in lessons():
        if is_lesson(name, number, script):
            return script
    raise CourseError(f"No lesson {name!r}.\nRemedy: name one by its number, e.g. 6-1 "
                      "(`python -m tfcourse lessons` lists them), or pass --all.")


def make_notebook(script):
    """The lesson's cells as an nbformat notebook (version 4), after a text cell on running it."""
    import jupytext
    import nbformat.v4 as v4
    text = (PROJECT_ROOT / script).read_text(encoding="utf-8")
    cells = list(jupytext.reads(text, fmt="py:percent").cells)
    # A kernel has no module docstring, and the parser's --help text comes from __doc__.
    cells[0].source = "__doc__ = " + cells[0].source  # (a lesson finds its week's helper itself)
    made = v4.new_notebook(metadata={"kernelspec": KERNEL, "language_info": {"name": "python"}})
    made.cells = [v4.new_markdown_cell(SETUP.format(script=script))]
    made.cells += [v4.new_markdown_cell(c.source) if c.cell_type == "markdown"
                   else v4.new_code_cell(c.source) for c in cells]  # no jupytext metadata
    return made


def main(argv=()):
    parser = command_parser(__doc__, "notebook")
    parser.add_argument("lessons", nargs="*", metavar="LESSON", help="a lesson number or script")
    parser.add_argument("--all", action="store_true", help="every lesson")
    parser.add_argument("--out", type=folder, default=PROJECT_ROOT / "notebooks", metavar="DIR",
                        help="where the .ipynb files go (default: notebooks/ in the project)")
    args = parser.parse_args(list(argv))
    if not args.lessons and not args.all:
        parser.error("name a lesson (e.g. 6-1) or pass --all")
    try:
        import jupytext  # noqa: F401 (make_notebook reads the lessons' cells with it)
        import nbformat
    except ImportError:
        raise CourseError("Making notebooks needs jupytext.\nRemedy: pip install jupytext"
                          ) from None
    scripts = [s for _, s, _, _ in lessons()] if args.all else map(find_lesson, args.lessons)
    for script in scripts:
        target = args.out / (Path(script).stem + ".ipynb")
        try:
            args.out.mkdir(parents=True, exist_ok=True)
            atomic_write(target, nbformat.writes(make_notebook(script)))
        except OSError as error:
            raise CourseError(f"Cannot write {target}: {error.strerror or error}.\n"
                              "Remedy: name a folder you can write to with --out DIR.") from None
        print(f"{script} -> {target}")
    return 0
