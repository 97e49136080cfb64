"""`python -m tfcourse lessons` prints the lesson map."""
import sys

from tfcourse.lessons import main

sys.exit(main(sys.argv[1:]))
