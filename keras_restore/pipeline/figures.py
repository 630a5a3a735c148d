"""Figures like the paper's: Fig. 2 (original / adversarial / restored examples per attack) and
Fig. 4 (success rate per target and attack, ours beside the paper's); for papers/001 Figs. 3-5
(restoration loss per attack during training) and Figs. 8-11 (no-defense and restored accuracy
per target and attack)."""

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


def accuracy_chart(long_rows: list[dict], path, spec,
                   bars=(("no_defense_pct", "tab:red", "no defense"), ("crunet_defense_pct", "tab:blue", "CRU-Net"))):
    """No-defense (red) and restored (blue) accuracy per attack, one panel per target, ours
    beside the paper's (hatched), like papers/001 Figs. 8-11."""
    plt = _plt()
    fig, panels = _target_panels(plt, long_rows, 5.5)
    for ax, label, rows, xs in panels:
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


def defended_chart(long_rows: list[dict], path, spec):
    """papers/002 Tables 1-4 as grouped bars: no defense (red) and defense (blue), ours beside the paper's."""
    accuracy_chart(long_rows, path, spec, bars=(("no_defense_pct", "tab:red", "no defense"),
                                                ("defense_pct", "tab:blue", "defense")))


# The paper's side of every loss row: Figs. 3-5 of papers/001 plot these curves but print no value.
LOSS_PAPER_NOTE = ("papers/001 Figs. 3-5 print no values (the figures are missing from the text conversion; "
                   "its text says only that the restoration loss is 'much slight' after each epoch)")


def loss_paper_note(source: str) -> str:
    """Why a loss row's paper column is empty, for a table of the paper ``source``."""
    if "papers/001" in source:
        return LOSS_PAPER_NOTE
    return f"{source} prints no per-epoch restoration-loss values"


def loss_rows(curves: dict, paper_note: str = LOSS_PAPER_NOTE) -> list[dict]:
    """Long rows (restorer, attack, split, epoch, MSE, no-restoration MSE, and the paper's MSE --
    empty, ``paper_note`` says why: :func:`loss_paper_note`) of ``curves``: restorer name -> its
    training record with ``loss_per_attack`` (:func:`keras_restore.training.train_restorer`)."""
    rows = []
    for name, record in curves.items():
        lpa = record["loss_per_attack"]
        for split, groups in lpa["mse"].items():
            for attack, values in groups.items():
                identity = lpa["identity_mse"][split][attack]
                for epoch, mse in zip(lpa["epochs"], values):
                    # MSEs are ~1e-3..1e-1: 6 significant digits, not the tables' 2 decimals.
                    rows.append({"restorer": name, "trained_for": ", ".join(record.get("trained_for", {})),
                                 "attack": attack, "split": split, "epoch": epoch, "mse": f"{mse:.6g}",
                                 "mse_paper": "", "mse_paper_note": paper_note,
                                 "no_restoration_mse": f"{identity:.6g}",
                                 "mse_over_no_restoration": f"{mse / identity:.4f}" if identity > 0 else "",
                                 "n_pairs": lpa["n"][split][attack], "kept_epoch": record.get("kept_epoch")})
    return rows


def loss_curves_figure(curves: dict, path, spec, columns, like_papers001: bool = False):
    """Restoration loss (MSE) per attack against the epoch, one panel per attack in the order of
    ``columns`` (two per row, like papers/001 Figs. 3-5 (a)/(b)): each restorer's held-out MSE
    (solid), training-pairs MSE (dashed) and the MSE of no restoration at all (dotted), log scale."""
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    attacks = [c for c in columns if any(c in groups for r in curves.values()
                                         for groups in r["loss_per_attack"]["mse"].values())]
    if not attacks:
        raise ValueError(f"No per-attack loss for any of the columns {list(columns)} in {list(curves)}.")
    n_rows = (len(attacks) + 1) // 2
    fig, axes = plt.subplots(n_rows, 2, figsize=(9, 2.8 * n_rows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, attack in enumerate(attacks):
        ax = axes[k // 2, k % 2]
        for c, (name, record) in enumerate(curves.items()):
            lpa, color = record["loss_per_attack"], colors[c % len(colors)]
            for split, style in (("val", "-o"), ("train", "--")):
                values = lpa["mse"].get(split, {}).get(attack)
                if values:
                    ax.plot(lpa["epochs"], values, style, color=color, markersize=3,
                            label=f"{name} ({'held-out' if split == 'val' else 'training'} pairs)")
            split = "val" if attack in lpa["identity_mse"].get("val", {}) else "train"
            identity = lpa["identity_mse"].get(split, {}).get(attack, 0.0)
            if identity > 0:   # 0 when every attack of the split failed (x_adv == x_clean)
                ax.axhline(identity, color=color, linestyle=":", linewidth=1, label=f"{name}: no restoration")
            if record.get("kept_epoch"):
                ax.axvline(record["kept_epoch"], color=color, alpha=0.25, linewidth=3)
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        like = f" (like Fig. {3 + k // 2}{'ab'[k % 2]})" if like_papers001 and len(attacks) == 6 else ""
        ax.set_title(f"{attack}{like}", fontsize=9)
        ax.set_xlabel("epoch (0 = before training)", fontsize=8)
        ax.set_ylabel("restoration loss (MSE)", fontsize=8)
        ax.tick_params(labelsize=7)
    if len(attacks) % 2:
        axes[-1, 1].axis("off")
    legend = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=3, fontsize=7, bbox_to_anchor=(0.5, -0.02 - 0.03 * len(curves)))
    fig.suptitle(f"{spec.title}: restoration loss per attack (like papers/001 Figs. 3-5; shaded: kept epoch)",
                 fontsize=8)
    fig.tight_layout()
    io.save_figure(fig, path)
    plt.close(fig)
