"""`python -m tfcourse notebook LESSON...`: a lesson as a Jupyter notebook, for Colab or Kaggle.

    python -m tfcourse notebook 6-1            # notebooks/6_1_cnn_mnist.ipynb
    python -m tfcourse notebook --all --out DIR

The lesson's own cells (jupytext reads its `# %%` marks) after a text cell on running it. The
lesson file stays the source: make the notebook again after it changes (notebooks/ is ignored).
"""
import re
from pathlib import Path

from tfcourse.cli import folder
from tfcourse.errors import CourseError
from tfcourse.tools import command_parser
from tfcourse.tools.lessons import PROJECT_ROOT, lessons

SETUP = """\
**运行 Run.** 本笔记本需要整个课程项目 tf-course-companion。自己的电脑：在项目文件夹里
`pip install -r requirements.txt`。Colab / Kaggle：上传（或 `!git clone`）项目，
`%cd` 进入项目文件夹，`!pip install -r requirements.txt`，再按顺序运行单元格。
This notebook needs the whole course project, tf-course-companion. On your computer:
`pip install -r requirements.txt` in the project folder. In Colab or Kaggle: upload (or
`!git clone`) the project, `%cd` into its folder, `!pip install -r requirements.txt`, then run
the cells in order. `tfcourse.parse(parser)` takes the lesson's defaults; a run of seconds:
`tfcourse.parse(parser, "--quick")`. Lesson file: `{script}`."""


def find_lesson(name):
    """The lesson's script path (from the project folder) for '6-1', a file name or a path."""
    key = name.strip().lower().removeprefix("lesson").strip()
    for number, script, _, _ in lessons():
        if key in (number, Path(script).stem, Path(script).name) or \
                Path(name).as_posix().endswith(script):
            return script
    raise CourseError(f"No lesson {name!r}.\nRemedy: name one by its number, e.g. 6-1 "
                      "(`python -m tfcourse lessons` lists them), or pass --all.")


def make_notebook(script):
    """The lesson's cells as an nbformat notebook (version 4)."""
    import jupytext
    import nbformat.v4 as v4
    text = (PROJECT_ROOT / script).read_text(encoding="utf-8")
    notebook = jupytext.reads(text, fmt="py:percent")
    cells = list(notebook.cells)
    if cells and cells[0].cell_type == "code" and cells[0].source.startswith(('"""', "r\"\"\"")):
        # A kernel has no module docstring, and the parser's --help text comes from __doc__.
        cells[0].source = "__doc__ = " + cells[0].source
    helpers = sorted(set(re.findall(r"^(?:import|from) (_[a-z]\w*)", text, re.M)))
    if helpers and "sys.path" not in text:  # a week helper sits beside the lesson file
        cells.insert(1, v4.new_code_cell(
            f"# {', '.join(h + '.py' for h in helpers)}: the week's helper, beside the lesson\n"
            "import sys\n\nfrom tfcourse.cli import PROJECT_ROOT\n\n"
            f'sys.path.insert(0, str(PROJECT_ROOT / "{Path(script).parent.as_posix()}"))'))
    made = v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    made.cells = [v4.new_markdown_cell(SETUP.format(script=script))]
    made.cells += [v4.new_markdown_cell(c.source) if c.cell_type == "markdown"
                   else v4.new_code_cell(c.source) for c in cells]  # no jupytext metadata
    return made


def main(argv=()):
    parser = command_parser(__doc__, "notebook")
    parser.add_argument("lessons", nargs="*", metavar="LESSON",
                        help="a lesson number (6-1) or script path")
    parser.add_argument("--all", action="store_true", help="every lesson")
    parser.add_argument("--out", type=folder, default=PROJECT_ROOT / "notebooks", metavar="DIR",
                        help="where the .ipynb files go (default: notebooks/ in the project)")
    args = parser.parse_args(list(argv))
    if not args.lessons and not args.all:
        parser.error("name a lesson (e.g. 6-1) or pass --all")
    try:
        import jupytext  # noqa: F401
        import nbformat
    except ImportError:
        raise CourseError("Making notebooks needs jupytext.\n"
                          "Remedy: pip install -r requirements.txt (or: pip install jupytext)."
                          ) from None
    from tfcourse.files import atomic_write
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
