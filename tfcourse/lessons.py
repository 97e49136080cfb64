"""The lesson map: every lesson script, found by its docstring's first line.

A lesson script is any `weekNN_*/*.py` whose name does not start with `_`; its docstring opens with

    Lesson 3-2 MNIST数据集分类简单版本 — MNIST, the simple version.

(`Lesson <number> <Chinese title> — <English title>`). The map is read from the files (no import,
no TensorFlow), so it always lists exactly the lessons that exist.
"""
import ast
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HEADER = re.compile(r"^Lesson\s+(?P<number>\d+-[\w-]+)\s+(?P<title>.+?)\s+—\s+(?P<english>.+?)\.?$")


def _sort_key(number):
    week, _, rest = number.partition("-")
    return (int(week), int(rest) if rest.isdigit() else 99, rest)


def lessons(root=PROJECT_ROOT):
    """[(number, script path relative to root, Chinese title, English title)], in course order."""
    found = []
    for script in sorted(Path(root).glob("week[0-9][0-9]_*/*.py")):
        if script.name.startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
        match = HEADER.match(doc.strip().splitlines()[0] if doc.strip() else "")
        if not match:
            raise ValueError(f"{script}: its docstring must start with "
                             f"'Lesson <number> <中文标题> — <English title>.'")
        found.append((match["number"], script.relative_to(root).as_posix(), match["title"], match["english"]))
    return sorted(found, key=lambda row: (_sort_key(row[0]), row[1]))


def main(argv):
    if argv[:1] != ["lessons"]:
        print("usage: python -m tfcourse lessons\n\nPrints the lesson map: lesson<TAB>script<TAB>title.")
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    for number, path, title, english in lessons():
        print(f"{number}\t{path}\t{title}")
    return 0
