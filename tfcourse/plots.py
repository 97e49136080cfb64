"""Plots are saved as PNG (works headless); --show also opens a window."""
from pathlib import Path


def save_figure(fig, path, show=False):
    """Save `fig` to `path` (PNG), print where it went, and show it when asked. Returns the path."""
    import matplotlib.pyplot as plt
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=100, bbox_inches="tight")
    tmp.replace(path)
    print(f"saved plot: {path}")
    if show:
        plt.show()
    plt.close(fig)
    return path
