"""The learner's commands beside the lessons: `python -m tfcourse lessons`, `compare` and `doctor`."""
import sys


def marks(stream=None):
    """The ok / warning / error / about signs, or ASCII ones where the console cannot print them (e.g. GBK)."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗≈–!".encode(encoding)
        return {"ok": "✓", "warn": "!", "error": "✗", "expected": "≈", "none": "–"}
    except (UnicodeEncodeError, LookupError):
        return {"ok": "OK", "warn": "!", "error": "X", "expected": "~", "none": "-"}
