"""Plots are saved as PNG (works headless); --show also opens a window."""
from pathlib import Path

from tfcourse.files import atomic_path


def save_figure(fig, path, show=False):
    """Save `fig` to `path` (PNG), print where it went, and show it when asked. Returns the path."""
    import matplotlib.pyplot as plt
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    print(f"saved plot: {path}")
    if show:
        plt.show()
    plt.close(fig)
    return path
