"""`python -m tfcourse COMMAND`: the learner's commands (tfcourse/__init__.py starts no TF here)."""
import importlib
import sys

from tfcourse.cli import report
from tfcourse.errors import CourseError

COMMANDS = {
    "lessons": "the lesson map: lesson<TAB>script<TAB>title",
    "compare": "the teacher's numbers beside a run's, with a verdict: compare 3-2",
    "doctor": "is this machine ready for the course? one line per check",
    "notebook": "a lesson as a Jupyter notebook for Colab or Kaggle: notebook 6-1 (or --all)",
}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        print("usage: python -m tfcourse COMMAND [...]\n\ncommands:")
        for name, about in COMMANDS.items():
            print(f"  {name:10s} {about}")
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    try:
        return importlib.import_module(f"tfcourse.tools.{argv[0]}").main(argv[1:])
    except CourseError as error:  # one message, exit 1, as in a lesson
        return report(error)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
