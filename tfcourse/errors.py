"""The one exception a lesson shows to a learner as a clear message (no traceback)."""


class CourseError(Exception):
    """Something the learner can fix: what went wrong and the remedy. `run_main` prints it and exits
    with `exit_code` (1 unless set)."""

    exit_code = 1

    def __init__(self, message, exit_code=None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
