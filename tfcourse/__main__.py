"""`python -m tfcourse COMMAND`: the learner's commands beside the lessons.

    python -m tfcourse lessons          the lesson map, in course order
    python -m tfcourse compare 3-2      the teacher's numbers beside your newest run of 3-2
    python -m tfcourse doctor           is this machine ready? (Python, packages, GPU, data, fonts)
"""
import sys

COMMANDS = {
    "lessons": ("tfcourse.tools.lessons", "print_lessons", "the lesson map: lesson<TAB>script<TAB>title"),
    "compare": ("tfcourse.tools.compare", "main", "the teacher's numbers beside a run's, with a verdict: compare 3-2"),
    "doctor": ("tfcourse.tools.doctor", "main", "is this machine ready for the course? one line per check"),
}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        print("usage: python -m tfcourse COMMAND [...]\n\ncommands:")
        for name, (_, _, about) in COMMANDS.items():
            print(f"  {name:10s} {about}")
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    import importlib
    module, function, _ = COMMANDS[argv[0]]
    return getattr(importlib.import_module(module), function)(argv[1:])


sys.exit(main(sys.argv[1:]))
