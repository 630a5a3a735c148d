"""Figures like the paper's: Fig. 2 (original / adversarial / restored examples per attack) and
Fig. 4 (success rate per target and attack, ours beside the paper's); for papers/001 Figs. 8-11
(no-defense and restored accuracy per target and attack)."""

from __future__ import annotations

import numpy as np

from keras_restore.pipeline import io


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def examples_figure(examples: dict, path, spec, per_attack: int = 2):
    """Rows original / adversarial / restored; ``per_attack`` images per (target, attack)."""
    plt = _plt()
    keys = list(examples)
    cols = len(keys) * per_attack
    fig, axes = plt.subplots(3, cols, figsize=(cols * 0.9, 3.2), squeeze=False)
    for k, key in enumerate(keys):
        for j in range(per_attack):
            c = k * per_attack + j
            for r, images in enumerate(examples[key]):
                ax = axes[r, c]
                ax.axis("off")
                if j < len(images):
                    img = np.clip(images[j], 0, 1)
                    ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
            axes[0, c].set_title(f"{key[0]}\n{key[1]}" if j == 0 else "", fontsize=7)
    for r, name in enumerate(("original", "adversarial", "restored")):
        axes[r, 0].text(-0.3, 0.5, name, transform=axes[r, 0].transAxes, ha="right", va="center", fontsize=8)
    fig.suptitle(f"{spec.title} - examples (like the paper's Fig. 2)", fontsize=9)
    io.save_figure(fig, path)
    plt.close(fig)


def _target_panels(plt, long_rows, panel_width):
    """One panel per target: the figure and ``(axis, label, that target's rows, x positions)``."""
    targets = list(dict.fromkeys(r["target"] for r in long_rows))
    fig, axes = plt.subplots(1, len(targets), figsize=(panel_width * len(targets), 3.2), squeeze=False)
    panels = []
    for ax, label in zip(axes[0], targets):
        rows = [r for r in long_rows if r["target"] == label]
        ax.set_title(f"{label}", fontsize=9)
        panels.append((ax, label, rows, np.arange(len(rows))))
    return fig, panels


def bar_chart(long_rows: list[dict], path, spec):
    """Success rate per attack, one panel per target, ours vs the paper (like Fig. 4)."""
    plt = _plt()
    fig, panels = _target_panels(plt, long_rows, 5)
    for ax, label, rows, xs in panels:
        ax.bar(xs - 0.2, [r["success_rate"] for r in rows], 0.4, label="ours")
        ax.bar(xs + 0.2, [r["success_rate_paper"] or 0 for r in rows], 0.4, label="paper")
        ax.set_xticks(xs, [r["attack"] for r in rows])
        ax.set_ylim(0, 110)
        ax.set_ylabel("success rate (%)")
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(spec.title, fontsize=9)
    io.save_figure(fig, path)
    plt.close(fig)


def accuracy_chart(long_rows: list[dict], path, spec):
    """No-defense (red) and restored (blue) accuracy per attack, one panel per target, ours
    beside the paper's (hatched), like papers/001 Figs. 8-11."""
    plt = _plt()
    fig, panels = _target_panels(plt, long_rows, 5.5)
    for ax, label, rows, xs in panels:
        bars = (("no_defense_pct", "tab:red", "no defense"), ("crunet_defense_pct", "tab:blue", "CRU-Net"))
        for i, (key, color, name) in enumerate(bars):
            ax.bar(xs + (i - 1.5) * 0.2, [r[key] for r in rows], 0.2, color=color, label=f"{name} (ours)")
            ax.bar(xs + (i + 0.5) * 0.2, [r[f"{key}_paper"] or 0 for r in rows], 0.2, color=color, alpha=0.35,
                   hatch="//", label=f"{name} (paper)")
        ax.set_xticks(xs, [r["attack"] for r in rows])
        ax.set_ylim(0, 125)
        ax.set_ylabel("accuracy (%)")
        ax.legend(fontsize=6, loc="upper center", ncol=4, handlelength=1.2, columnspacing=0.8)
    fig.suptitle(f"{spec.title} (like {spec.figure})", fontsize=8)
    io.save_figure(fig, path)
    plt.close(fig)
