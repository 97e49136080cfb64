"""Common command-line options, run folder and the clean-error wrapper every lesson uses.

A lesson does:

    parser = tfcourse.make_parser(__doc__, epochs=21, batch_size=100, lr=0.2)
    ...add its own flags...
    def main(argv=None):
        args = parser.parse_args(argv)
        run = tfcourse.setup(args, __file__)      # devices, seed, run folder
        ...
    if __name__ == "__main__":
        tfcourse.run_main(main)
"""
import argparse
import dataclasses
import os
import random
import sys
from pathlib import Path

import numpy as np

from tfcourse.devices import add_device_flags, apply_device_flags
from tfcourse.errors import CourseError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def make_parser(doc, *, epochs=None, batch_size=None, lr=None, mnist=False):
    """An ArgumentParser with the shared flags; `doc` (the lesson's docstring) is its --help text.

    --epochs/--batch-size/--lr appear only when the lesson passes its default for them, and the
    MNIST flags (--data, --data-dir, --mirror) only when `mnist=True`.
    """
    lines = (doc or "").strip().splitlines()
    parser = argparse.ArgumentParser(
        description=lines[0] if lines else None,
        epilog="\n".join(lines[1:]).strip() or None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    if epochs is not None:
        parser.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (lesson: {epochs})")
    if batch_size is not None:
        parser.add_argument("--batch-size", type=int, default=batch_size,
                            help=f"examples per step (lesson: {batch_size})")
    if lr is not None:
        parser.add_argument("--lr", type=float, default=lr, help=f"learning rate (lesson: {lr})")
    parser.add_argument("--seed", type=int, default=0, help="random seed for data order and weights (default 0)")
    parser.add_argument("--quick", action="store_true",
                        help="a run of seconds (few steps, little data) to check that everything works")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="run folder for logs, checkpoints and plots (default: runs/<week>/<lesson>/)")
    parser.add_argument("--show", action="store_true",
                        help="also open plot windows (plots are always saved as PNG)")
    if mnist:
        group = parser.add_argument_group("MNIST data (数据)")
        group.add_argument("--data", choices=["mnist", "synthetic"], default="mnist",
                           help="mnist: the real data set (default); synthetic: drawn stand-in digits, "
                                "for a run with no data at all (labelled as such in the output)")
        group.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                           help="folder with the four MNIST IDX files (.gz or not, the course's MNIST_data/) "
                                "or Keras's mnist.npz; nothing is downloaded then")
        group.add_argument("--mirror", default=None, metavar="URL",
                           help="a mirror to try first: a URL folder holding mnist.npz or the IDX files "
                                "(also the TFCOURSE_MIRROR environment variable)")
    add_device_flags(parser)
    return parser


@dataclasses.dataclass
class Run:
    """What `setup` hands back: the run folder and a description of the device in use."""
    out: Path
    device: str
    args: argparse.Namespace

    def path(self, *parts):
        """A path inside the run folder; its parent folders are created."""
        target = self.out.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


def default_run_folder(script):
    script = Path(script).resolve()
    return PROJECT_ROOT / "runs" / script.parent.name / script.stem


def setup(args, script):
    """Apply device flags, seed every random generator, create the run folder; return a `Run`."""
    device = apply_device_flags(args)
    seed_everything(getattr(args, "seed", 0))
    if not getattr(args, "show", False):
        import matplotlib
        matplotlib.use("Agg")  # headless by default: plots are files
    out = Path(args.out) if getattr(args, "out", None) else default_run_folder(script)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CourseError(f"Cannot create the run folder {out}: {error.strerror}.\n"
                          "Remedy: pass another folder with --out DIR.") from None
    return Run(out=out, device=device, args=args)


def seed_everything(seed):
    import tensorflow as tf
    random.seed(seed)
    np.random.seed(seed)
    tf.keras.utils.set_random_seed(seed)


def run_main(main, argv=None):
    """Run `main(argv)`; a CourseError becomes one clear message and a non-zero exit."""
    try:
        code = main(argv)
    except CourseError as error:
        sys.stdout.flush()
        print(f"\n错误 Error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("\n已中断 Interrupted.", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


def env_mirror(args=None):
    return (getattr(args, "mirror", None) if args is not None else None) or os.environ.get("TFCOURSE_MIRROR")
