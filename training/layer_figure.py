"""The layer-relevance figure as a PNG (matplotlib, headless): per-layer probe CCC and learnt layer weights.

The paper's figure on the user's corpus: one line per dimension over the encoder's hidden states (0 = the
embeddings before the first layer), and beside it the per-dimension softmax weights a trained model put on
each layer. Takes the plain dict of `LayerReport.to_dict()` (or a model version's metrics), so the CLI and
the bench draw the same picture without importing training code here.
"""

from __future__ import annotations

from pathlib import Path

from emotrace.core.errors import UserFacingError
from emotrace.core.vocab import DIMENSIONS

COLOURS = {"arousal": "#d62728", "valence": "#1f77b4", "dominance": "#2ca02c"}


def render_png(reports: list[dict], path: str | Path) -> Path:
    """One row per report (backbone): probe CCC by layer, and learnt weights by layer when present."""
    try:
        # lazy: matplotlib for `emotrace layers --png` only (the plots extra)
        import matplotlib

        matplotlib.use("Agg")
        # lazy: pyplot after matplotlib.use("Agg"): the backend is chosen before pyplot loads
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise UserFacingError("--png needs matplotlib: pip install 'emotrace[plots]'") from exc
    rows = len(reports)
    fig, axes = plt.subplots(rows, 2, figsize=(10, 3.2 * rows), squeeze=False)
    for r, rep in enumerate(reports):
        ax, wax = axes[r]
        probe = rep.get("probe_ccc") or []
        layers = list(range(len(probe)))
        for d in DIMENSIONS:
            if probe:
                ax.plot(layers, [p[d] for p in probe], marker="o", color=COLOURS[d], label=d)
                flat = (rep.get("all_layers_ccc") or {}).get(d)
                if flat is not None:
                    ax.axhline(flat, color=COLOURS[d], linestyle=":", linewidth=1)
        ax.set_title(f"{rep.get('backbone', '')}: ridge probe CCC on {rep.get('split', '')}", fontsize=9)
        ax.set_xlabel("hidden state (0 = embeddings)")
        ax.set_ylabel("CCC")
        ax.set_xticks(layers)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, title="dotted: all layers", title_fontsize=7)
        weights = rep.get("layer_weights")
        if weights:
            n = len(weights[0])
            width = 0.8 / len(DIMENSIONS)
            for i, d in enumerate(DIMENSIONS):
                wax.bar([k + (i - 1) * width for k in range(n)], weights[i], width=width, color=COLOURS[d], label=d)
            wax.axhline(1.0 / n, color="grey", linestyle="--", linewidth=1, label="uniform")
            wax.set_xticks(range(n))
            wax.set_title(f"learnt softmax layer weights ({rep.get('weights_source') or 'model'})", fontsize=9)
            wax.set_xlabel("hidden state (0 = embeddings)")
            wax.legend(fontsize=8)
            wax.grid(alpha=0.3, axis="y")
        else:
            wax.axis("off")
            wax.text(0.5, 0.5, "no trained model on this backbone", ha="center", va="center", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
