"""The one exception a lesson shows to a learner as a clear message, without a traceback."""


class CourseError(Exception):
    """Something the learner can fix: what went wrong, then a line "Remedy: ...".
    Shown as one message (`tfcourse.cli.report`), exit code 1."""
