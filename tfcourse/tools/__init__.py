"""The learner's commands beside the lessons (`python -m tfcourse`); none starts TensorFlow."""
import argparse
import sys


def command_parser(doc, prog):
    """An argparse parser whose --help is the command's docstring."""
    first, _, rest = doc.partition("\n")
    return argparse.ArgumentParser(f"python -m tfcourse {prog}", description=first, epilog=rest,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def marks():
    """✓ ! ✗ ≈ – → signs, or ASCII ones where the console cannot show them (e.g. GBK)."""
    try:
        "✓✗≈→".encode(getattr(sys.stdout, "encoding", None) or "ascii")
        return {"ok": "✓", "warn": "!", "error": "✗", "expected": "≈", "none": "–", "arrow": "→"}
    except (UnicodeEncodeError, LookupError):
        return {"ok": "OK", "warn": "!", "error": "X", "expected": "~", "none": "-", "arrow": "->"}
