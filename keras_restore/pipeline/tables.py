"""Table specifications: which targets, restorer, attacks and the paper's printed values.

The paper's values are copied from the table texts in ``../shared/papers`` and pinned by tests;
every result row prints them beside ours with the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMNS = ("FGSM", "BIM", "PGD", "DFA", "CWA", "SPA")
# Table columns -> keras_restore.attacks names.
ATTACK_OF_COLUMN = {"FGSM": "fgsm", "BIM": "bim", "PGD": "pgd", "DFA": "deepfool", "CWA": "cw", "SPA": "spa"}


@dataclass(frozen=True)
class TableSpec:
    name: str                     # e.g. "table4_mnist" (file stem of every output)
    title: str
    dataset: str
    targets: dict                 # row label -> registry name, e.g. {"M1": "m1"}
    restorer: str                 # registry name of the restorer
    paper: dict                   # row label -> {column: paper value}
    paper_accuracy: dict = field(default_factory=dict)  # row label -> clean accuracy (%)
    columns: tuple = COLUMNS
    source: str = "Ali et al. 2021, Deep Image Restoration Model (papers/000)"


TABLE4 = TableSpec(
    name="table4_mnist",
    title="Table 4: Success rate (%) of the defense system on MNIST",
    dataset="mnist",
    targets={"M1": "m1", "M2": "m2"},
    restorer="restorer_mnist",
    paper={
        "M1": {"FGSM": 98.96, "BIM": 99.31, "PGD": 99.54, "DFA": 99.3, "CWA": 99.9, "SPA": 97.51},
        "M2": {"FGSM": 99.12, "BIM": 99.63, "PGD": 99.82, "DFA": 99.51, "CWA": 96.53, "SPA": 97.51},
    },
    paper_accuracy={"M1": 99.0, "M2": 97.4},
)

TABLES = {spec.name: spec for spec in (TABLE4,)}
