"""`python -m tfcourse lessons`: the lesson map (number, script, Chinese title), read from each
script's docstring without running it. The files' names give the videos' order."""
import ast
import re
from pathlib import Path

from tfcourse.cli import PROJECT_ROOT

HEADER = re.compile(r"^Lesson\s+(?P<number>\d+-[\w-]+)\s+(?P<title>.+?)\s+—\s+(?P<english>.+?)\.?$")


def lesson_files():
    """Every lesson script: weekNN_*/*.py whose name does not start with `_`."""
    found = PROJECT_ROOT.glob("week[0-9][0-9]_*/[!_]*.py")
    return sorted(path.relative_to(PROJECT_ROOT).as_posix() for path in found)


def is_lesson(name, number, script):
    """Whether `name` ('6-1', 'lesson 6-1', a script's file name or path) names this lesson."""
    key = Path(name.strip().lower().removeprefix("lesson").strip()).stem
    return key in (number, Path(script).stem)


def read_header(script):
    """(number, Chinese title, English title) from the first line of a script's docstring."""
    doc = ast.get_docstring(ast.parse(Path(script).read_text(encoding="utf-8"))) or ""
    match = HEADER.match(doc.partition("\n")[0])
    return match.groups() if match else None


def lessons():
    """[(number, script, Chinese title, English title)] in course order; files without a header
    line 'Lesson <number> <中文标题> — <English title>.' (a learner's own) are left out."""
    found = []
    for script in lesson_files():
        header = read_header(PROJECT_ROOT / script)
        if header is not None:
            found.append((header[0], script, *header[1:]))
    return found


def main(argv=()):
    for number, script, title, _ in lessons():
        print(f"{number}\t{script}\t{title}")
    return 0
