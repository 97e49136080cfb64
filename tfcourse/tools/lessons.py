"""`python -m tfcourse lessons`: the lesson map, titles read from each docstring's first line
without running anything:

    Lesson 3-2 MNIST数据集分类简单版本 — MNIST, the simple version.

The files' names give the videos' order (9_1_retrain.py makes the model 9_1_test_retrained.py
tests); a test checks it against the README's table.
"""
import ast
import re
from pathlib import Path

from tfcourse.cli import PROJECT_ROOT

HEADER = re.compile(r"^Lesson\s+(?P<number>\d+-[\w-]+)\s+(?P<title>.+?)\s+—\s+(?P<english>.+?)\.?$")


def lesson_files(root=PROJECT_ROOT):
    """Every lesson script on disk: weekNN_*/*.py whose name does not start with `_`."""
    return sorted(p.relative_to(root).as_posix() for p in root.glob("week[0-9][0-9]_*/[!_]*.py"))


def read_header(script):
    """(number, Chinese title, English title) from a script's docstring, or None."""
    doc = ast.get_docstring(ast.parse(Path(script).read_text(encoding="utf-8"))) or ""
    match = HEADER.match(doc.strip().splitlines()[0] if doc.strip() else "")
    return (match["number"], match["title"], match["english"]) if match else None


def lessons(root=PROJECT_ROOT):
    """[(number, script path, Chinese title, English title)] in course order."""
    found = []
    for path in lesson_files(root):
        header = read_header(root / path)
        if header is None:
            raise ValueError(f"{path}: its docstring must start with "
                             "'Lesson <number> <中文标题> — <English title>.'")
        found.append((header[0], path, *header[1:]))
    return found


def main(argv=()):
    for number, path, title, _ in lessons():
        print(f"{number}\t{path}\t{title}")
    return 0
