"""The learner's commands beside the lessons: `python -m tfcourse lessons | compare | doctor |
notebook` (see tfcourse/__main__.py). None of them starts TensorFlow."""
import argparse
import sys


def command_parser(doc, prog):
    """An argparse parser whose --help is the command's docstring."""
    first, _, rest = doc.partition("\n")
    return argparse.ArgumentParser(f"python -m tfcourse {prog}", description=first, epilog=rest,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def marks(stream=None):
    """✓ ! ✗ ≈ → signs, or ASCII ones where the console cannot show them (e.g. GBK): the core
    would print '?' for each, and ✓ and ✗ would look the same."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗≈→".encode(encoding)
        return {"ok": "✓", "warn": "!", "error": "✗", "expected": "≈", "none": "–", "arrow": "→"}
    except (UnicodeEncodeError, LookupError):
        return {"ok": "OK", "warn": "!", "error": "X", "expected": "~", "none": "-", "arrow": "->"}
