"""Render the static results site from the committed results.

Input: a results directory (``reproduce/results``) and a models directory (``saved_models``).
In the results directory (and in each sub-directory one level down, e.g. ``retrain/``):

* ``<table>.csv`` -- the wide table; a column ``X`` with a column ``X_paper`` beside it (and
  optionally ``X_delta``) is shown as one cell *ours / paper / difference*;
* ``<table>_long.csv`` -- every metric; columns whose name contains ``adaptive`` are set side by
  side with their oblivious counterpart;
* ``<table>_loss.csv`` -- per-epoch restoration loss, summarised;
* ``<table>.meta.json`` -- scale, seed, versions, timings; its ``"paper"`` string groups the
  tables into one page per paper (``papers/NNN`` in the string is the grouping key);
* ``<table>_*.png`` -- figures, shown inline;
* ``adaptive_robustness.csv`` -- when present, the leaderboard on the index page.

``saved_models/manifest.json`` gives one model card per shipped model.

Output: ``index.html``, one ``paper-NNN.html`` per paper, ``other.html`` (tables whose metadata
names no paper), ``models.html``, and ``static/`` (CSS and the table sorter). Figures and raw
files are linked relatively (or copied with ``copy_assets``), so the site works from disk.

Everything is rendered into a temporary directory beside the output and swapped in at the end:
a failure leaves the previous site as it was. A missing or malformed file is a *problem*: its
message names the file, it is shown on the page concerned and returned, and the rest is
rendered anyway.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import jinja2

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES = PACKAGE_DIR / "templates"
STATIC = PACKAGE_DIR / "static"
STATIC_FILES = ("site.css", "site.js")

LEADERBOARD = "adaptive_robustness.csv"
DEFAULT_EXCLUDE = ("quick",)  # git-ignored CI smoke runs
FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")
#: |difference| below the first bound is "ok" (green), below the second "warn" (amber), else "bad".
THRESHOLDS = (2.0, 10.0)
OTHER_PAGE = "other.html"
_PERCENT_HINT = re.compile(r"pct|percent|accuracy|rate|%", re.I)
IDENTITY_COLUMNS = ("defense", "dataset", "target", "attack", "restorer", "paper_table", "metric")


class SiteInputError(Exception):
    """A results file that cannot be used; the message starts with the file's path."""


class SiteBuildError(Exception):
    """Nothing could be rendered (the previous site, if any, is left in place)."""


# --------------------------------------------------------------------------------------- input


@dataclass
class CsvTable:
    path: Path
    columns: list[str]
    rows: list[dict[str, str]]


def _read_text(path: Path, encoding: str) -> str:
    """The file's text; a :class:`SiteInputError` naming the file when it is missing, unreadable or not UTF-8."""
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise SiteInputError(f"{path}: file not found") from None
    except UnicodeDecodeError as e:
        raise SiteInputError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise SiteInputError(f"{path}: cannot be read ({e.strerror or e})") from None


def read_csv(path: Path) -> CsvTable:
    """Read a CSV with a header row; raise :class:`SiteInputError` naming the file if it is bad."""
    path = Path(path)
    text = _read_text(path, "utf-8-sig")
    if not text.strip():
        raise SiteInputError(f"{path}: empty file (no header row)")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        columns = [h.strip() for h in header]
        if any(not c for c in columns):
            raise SiteInputError(f"{path}: the header row has an empty column name")
        dups = sorted({c for c in columns if columns.count(c) > 1})
        if dups:
            raise SiteInputError(f"{path}: duplicate column name(s) in the header: {', '.join(dups)}")
        rows = []
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != len(columns):
                raise SiteInputError(f"{path}: line {reader.line_num} has {len(record)} fields, "
                                     f"the header has {len(columns)}")
            rows.append(dict(zip(columns, record)))
    except csv.Error as e:
        raise SiteInputError(f"{path}: malformed CSV at line {reader.line_num} ({e})") from None
    return CsvTable(path, columns, rows)


def read_json(path: Path) -> dict:
    """Read a JSON object; raise :class:`SiteInputError` naming the file if it is bad."""
    path = Path(path)
    text = _read_text(path, "utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SiteInputError(f"{path}: malformed JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise SiteInputError(f"{path}: expected a JSON object at the top level, found {type(data).__name__}")
    return data


def parse_number(text, *, strict: bool = False) -> float | None:
    """A CSV cell or JSON value as a finite float; None where empty. Anything else (text, NaN, inf, a
    boolean) is None too, or, with ``strict``, a ValueError naming the value: a record read back to
    describe a run (``reproduce/cifar10_targets.py``'s metadata) must not turn a corrupt cell into a default."""
    def bad():
        if strict:
            raise ValueError(f"expected a finite number or an empty cell, got {text!r}")
        return None

    if text is None:
        return None
    if isinstance(text, bool):
        return bad()
    if isinstance(text, (int, float)):
        return float(text) if math.isfinite(text) else bad()
    s = str(text).strip()
    if not s:
        return None
    try:
        v = float(s)
    except ValueError:
        return bad()
    return v if math.isfinite(v) else bad()


def _decimals(text: str) -> int:
    s = str(text).strip()
    return len(s.split(".", 1)[1]) if "." in s and "e" not in s.lower() else 0


def natural_key(s: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


# ----------------------------------------------------------------------------------- view model


@dataclass
class Cell:
    text: str = ""
    sort: str | None = None          # numeric sort key (as text) if the cell is a number
    cls: str = ""
    paper: str | None = None         # comparison cells: the paper's value ("" = none given)
    delta: str | None = None         # comparison cells: signed difference, formatted
    title: str = ""
    kind: str = "plain"              # "plain" | "cmp"


@dataclass
class Column:
    label: str
    cls: str = ""
    title: str = ""
    numeric: bool = False


@dataclass
class Grid:
    key: str                         # data-table attribute (unique on the page)
    columns: list[Column]
    rows: list[list[Cell]]
    caption: str = ""
    counts: dict = field(default_factory=lambda: {"ok": 0, "warn": 0, "bad": 0, "na": 0})


def severity(delta: float | None, factor: float = 1.0) -> str:
    if delta is None:
        return "na"
    mag = abs(delta) * factor
    return "ok" if mag < THRESHOLDS[0] else "warn" if mag < THRESHOLDS[1] else "bad"


def _signed(text: str) -> str:
    s = str(text).strip()
    return s if s.startswith(("-", "+")) else "+" + s


def _plain_cell(value: str, column: str) -> Cell:
    v = parse_number(value)
    cell = Cell(text=value, sort=None if v is None else repr(v))
    if v is not None:
        cell.cls = "num"
        if column.endswith("_delta"):
            cell.cls += " d-" + severity(v)
    return cell


def _comparison_plan(columns: list[str]):
    """[("cmp", X, X_paper, X_delta|None) | ("plain", col)] in column order."""
    cset = set(columns)
    consumed = set()
    for c in columns:
        if not c.endswith("_paper") and c + "_paper" in cset:
            consumed.add(c + "_paper")
            if c + "_delta" in cset:
                consumed.add(c + "_delta")
    plan = []
    for c in columns:
        if c in consumed:
            continue
        if not c.endswith("_paper") and c + "_paper" in cset:
            plan.append(("cmp", c, c + "_paper", c + "_delta" if c + "_delta" in cset else None))
        else:
            plan.append(("plain", c))
    return plan


def _unit_factors(table: CsvTable, plan) -> dict:
    """Differences are coloured in percentage points. A group of values (one column, and one value
    of a ``metric`` column if the table has one) lying entirely in [-1, 1] -- SSIM, fractions --
    counts on a 0-1 scale, so its differences are multiplied by 100 before colouring -- unless the
    column (or metric) names a percentage (``pct``, ``accuracy``, ``rate``, ``%``)."""
    metric_col = next((c for c in ("metric", "measure") if c in table.columns), None)
    groups: dict = {}
    for step in plan:
        if step[0] != "cmp":
            continue
        _, ours, paper, _ = step
        for row in table.rows:
            key = (ours, row.get(metric_col) if metric_col else None)
            vals = groups.setdefault(key, [])
            vals += [v for v in (parse_number(row[ours]), parse_number(row[paper])) if v is not None]
    factors = {}
    for (column, metric), vals in groups.items():
        fraction = bool(vals) and all(abs(v) <= 1.0 for v in vals)
        percent = _PERCENT_HINT.search(column) or (metric and _PERCENT_HINT.search(metric))
        factors[(column, metric)] = 100.0 if fraction and not percent else 1.0
    return factors, metric_col


def comparison_cell(ours: str, paper: str, delta_text: str | None, factor: float, column: str) -> Cell:
    o, p = parse_number(ours), parse_number(paper)
    d = parse_number(delta_text) if delta_text not in (None, "") else None
    if d is not None:
        dtxt = _signed(delta_text)
    elif o is not None and p is not None:
        d = o - p
        dtxt = f"{d:+.{max(_decimals(ours), _decimals(paper))}f}"
    else:
        dtxt = ""
    sev = severity(d, factor)
    title = f"{column}: ours {ours or '-'}, paper {paper or 'not given'}"
    if d is not None:
        title += f", difference {dtxt}"
        if factor != 1.0:
            title += f" ({abs(d) * factor:.1f} points on a 0-100 scale)"
    return Cell(text=ours, sort=None if o is None else repr(o), cls=f"cmp d-{sev}", paper=paper.strip(),
                delta=dtxt, title=title, kind="cmp")


def adaptive_pairs(columns: list[str], rows: list[dict]) -> list[tuple[str | None, str]]:
    """(oblivious column or None, adaptive column) for each numeric column naming "adaptive"."""
    cset = set(columns)
    pairs = []
    for a in columns:
        if "adaptive" not in a.lower() or a.endswith(("_paper", "_delta", "_note")) or "_minus_" in a.lower():
            continue   # a difference of two measurements (e.g. adaptive_minus_oblivious) is not one to pair
        vals = [r[a] for r in rows if r.get(a, "").strip()]
        if not vals or any(parse_number(v) is None for v in vals):
            continue
        candidates = [re.sub("adaptive", "oblivious", a, flags=re.I),
                      re.sub(r"^adaptive_|_adaptive$", "", a, flags=re.I),
                      re.sub(r"_adaptive_", "_", a, flags=re.I)]
        if "accuracy" in a.lower():
            candidates.append("restored_accuracy")
        obl = next((c for c in candidates if c != a and c in cset), None)
        pairs.append((obl, a))
    return pairs


def _finish(grid: Grid) -> Grid:
    for j, col in enumerate(grid.columns):
        sorts = [row[j].sort for row in grid.rows if row[j].text.strip()]
        col.numeric = bool(sorts) and all(s is not None for s in sorts)
    for row in grid.rows:
        for cell in row:
            for sev in ("ok", "warn", "bad"):
                if f"d-{sev}" in cell.cls.split():
                    grid.counts[sev] += 1
            if cell.kind == "cmp" and "d-na" in cell.cls.split():
                grid.counts["na"] += 1
    return grid


def build_grid(table: CsvTable, key: str, caption: str = "", with_adaptive: bool = False) -> Grid:
    """Every column of ``table``: X / X_paper / X_delta merged into one comparison column; with
    ``with_adaptive`` each adaptive column follows its oblivious one, then their difference (and the
    gap to a ``paper_claim`` column if there is one)."""
    plan = _comparison_plan(table.columns)
    factors, metric_col = _unit_factors(table, plan)
    pairs = adaptive_pairs(table.columns, table.rows) if with_adaptive else []
    if pairs:  # move each adaptive column right after its oblivious counterpart
        adaptive = {a for _, a in pairs}
        after = {o: a for o, a in pairs if o}
        new_plan = []
        for step in plan:
            if step[0] == "plain" and step[1] in adaptive and step[1] in after.values():
                continue
            new_plan.append(step)
            if step[0] in ("plain", "cmp") and step[1] in after:
                new_plan += [("plain", after[step[1]]), ("gap", step[1], after[step[1]])]
        plan = new_plan
        if "paper_claim" in table.columns:
            for _, a in pairs:
                plan.append(("gap", "paper_claim", a))
    columns = []
    for step in plan:
        if step[0] == "cmp":
            columns.append(Column(step[1], "col-cmp", f"{step[1]}: ours, paper ({step[2]}) and the difference"))
        elif step[0] == "gap":
            columns.append(Column(f"{step[2]} − {step[1]}", "col-gap", f"{step[2]} minus {step[1]}"))
        else:
            c = step[1]
            cls = "col-adaptive" if "adaptive" in c.lower() else "col-oblivious" if "oblivious" in c.lower() else ""
            columns.append(Column(c, cls))
    rows = []
    for row in table.rows:
        cells = []
        for step in plan:
            if step[0] == "cmp":
                _, ours, paper, delta = step
                factor = factors.get((ours, row.get(metric_col) if metric_col else None), 1.0)
                cells.append(comparison_cell(row[ours], row[paper], row[delta] if delta else None, factor, ours))
            elif step[0] == "gap":
                b, a = parse_number(row[step[1]]), parse_number(row[step[2]])
                if a is None or b is None:
                    cells.append(Cell(cls="num d-na"))
                else:
                    dec = max(_decimals(row[step[1]]), _decimals(row[step[2]]))
                    cells.append(Cell(text=f"{a - b:+.{dec}f}", sort=repr(a - b), cls=f"num d-{severity(a - b)}",
                                      title=f"{step[2]} {row[step[2]]} − {step[1]} {row[step[1]]}"))
            else:
                cells.append(_plain_cell(row[step[1]], step[1]))
        rows.append(cells)
    return _finish(Grid(key, columns, rows, caption))


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def markdown_table(table: CsvTable, *, with_adaptive: bool = True, columns: list[str] | None = None) -> str:
    """The table as GitHub-flavoured Markdown, as the site shows it: each ``X`` with ``X_paper``
    becomes one cell ``ours / paper (difference)`` ("ours / -" where the paper gives no value) and,
    with ``with_adaptive``, each adaptive column follows its oblivious one with their difference.
    ``columns`` keeps only those columns of the result (by their label, in that order); an unknown
    label raises ``ValueError`` naming the labels there are."""
    grid = build_grid(table, "md", with_adaptive=with_adaptive)
    labels = [c.label for c in grid.columns]
    keep = list(range(len(labels)))
    if columns is not None:
        if not columns:
            raise ValueError("`columns` must name at least one column, got an empty list")
        ascii_labels = [lab.replace("\u2212", "-") for lab in labels]   # a difference column "A − B" typed as "A - B"
        unknown = [c for c in columns if c not in labels and c not in ascii_labels]
        if unknown:
            raise ValueError(f"`columns` {unknown} not in {table.path.name}; its columns are {labels}")
        dups = sorted({c for c in columns if columns.count(c) > 1})
        if dups:
            raise ValueError(f"`columns` names {dups} more than once")
        keep = [labels.index(c) if c in labels else ascii_labels.index(c) for c in columns]

    def text(cell: Cell) -> str:
        if cell.kind != "cmp":
            return _md_escape(cell.text)
        return _md_escape(f"{cell.text or '-'} / {cell.paper or '-'}" + (f" ({cell.delta})" if cell.delta else ""))

    lines = ["| " + " | ".join(_md_escape(labels[j]) for j in keep) + " |",
             "|" + "---|" * len(keep)]
    lines += ["| " + " | ".join(text(row[j]) for j in keep) + " |" for row in grid.rows]
    return "\n".join(lines) + "\n"


def adaptive_grid(table: CsvTable, key: str) -> Grid | None:
    """Oblivious vs adaptive side by side for a long CSV with adaptive columns, else None."""
    pairs = adaptive_pairs(table.columns, table.rows)
    if not pairs:
        return None
    ident = [c for c in IDENTITY_COLUMNS if c in table.columns] or [table.columns[0]]
    columns = [Column(c) for c in ident]
    for o, a in pairs:
        if o:
            columns += [Column(o, "col-oblivious", "oblivious attack (does not know the defense)"),
                        Column(a, "col-adaptive", "adaptive attack (knows the defense)"),
                        Column(f"{a} − {o}", "col-gap")]
        else:
            columns.append(Column(a, "col-adaptive", "adaptive attack; no oblivious column found"))
    rows = []
    for row in table.rows:
        cells = [_plain_cell(row[c], c) for c in ident]
        for o, a in pairs:
            cells.append(_plain_cell(row[a], a) if not o else _plain_cell(row[o], o))
            if o:
                cells.append(_plain_cell(row[a], a))
                vo, va = parse_number(row[o]), parse_number(row[a])
                if vo is None or va is None:
                    cells.append(Cell(cls="num d-na"))
                else:
                    dec = max(_decimals(row[o]), _decimals(row[a]))
                    cells.append(Cell(text=f"{va - vo:+.{dec}f}", sort=repr(va - vo), cls=f"num d-{severity(va - vo)}"))
        rows.append(cells)
    return _finish(Grid(key, columns, rows, f"Oblivious vs adaptive attack ({table.path.name})"))


def loss_summary(table: CsvTable) -> CsvTable | None:
    """One row per (restorer, attack, split): MSE before training, at the kept epoch, without
    restoration, and their ratio; None if the CSV does not have the per-epoch loss columns."""
    need = {"restorer", "attack", "split", "epoch", "mse"}
    if not need <= set(table.columns):
        return None
    groups: dict = {}
    for row in table.rows:
        k = (row["restorer"], row.get("trained_for", ""), row["attack"], row["split"])
        groups.setdefault(k, []).append(row)
    cols = ["restorer", "trained_for", "attack", "split", "mse_epoch0", "kept_epoch", "mse_kept",
            "no_restoration_mse", "kept_over_no_restoration"]
    out = []
    for (restorer, trained_for, attack, split), rows in sorted(groups.items(),
                                                               key=lambda kv: [natural_key(x) for x in kv[0]]):
        by_epoch = {}
        for r in rows:
            e = parse_number(r["epoch"])
            if e is not None:
                by_epoch[int(e)] = r
        if not by_epoch:
            continue
        kept = parse_number(rows[0].get("kept_epoch", ""))
        kept = int(kept) if kept is not None and int(kept) in by_epoch else max(by_epoch)
        first = by_epoch[min(by_epoch)]
        last = by_epoch[kept]
        ident = parse_number(last.get("no_restoration_mse", ""))
        mse = parse_number(last["mse"])
        ratio = f"{mse / ident:.3f}" if mse is not None and ident else ""
        out.append({"restorer": restorer, "trained_for": trained_for, "attack": attack, "split": split,
                    "mse_epoch0": first["mse"], "kept_epoch": str(kept), "mse_kept": last["mse"],
                    "no_restoration_mse": last.get("no_restoration_mse", ""), "kept_over_no_restoration": ratio})
    if not any(r["trained_for"] for r in out):
        cols.remove("trained_for")
    return CsvTable(table.path, cols, out)


# ------------------------------------------------------------------------------- discovery


@dataclass
class TableEntry:
    key: str                          # "table4_mnist", "retrain/table4_mnist"
    directory: Path
    stem: str
    wide_path: Path | None = None
    long_path: Path | None = None
    loss_path: Path | None = None
    meta_path: Path | None = None
    figures: list[Path] = field(default_factory=list)
    wide: CsvTable | None = None
    long: CsvTable | None = None
    loss: CsvTable | None = None
    meta: dict | None = None
    problems: list[str] = field(default_factory=list)
    # shipped models this table's run loaded whose file has been replaced since (see stale_models)
    stale: list[dict] = field(default_factory=list)
    paper_key: str = "other"
    paper_title: str = "Other results"
    paper_short: str = "Other results"
    page: str = OTHER_PAGE

    @property
    def anchor(self) -> str:
        return re.sub(r"[^A-Za-z0-9_-]+", "-", self.key)

    @property
    def rendered(self) -> bool:
        return self.wide is not None or self.long is not None

    @property
    def title(self) -> str:
        t = (self.meta or {}).get("title")
        return str(t) if t else self.stem

    @property
    def main(self) -> CsvTable | None:
        return self.wide or self.long


def paper_group(paper: str) -> tuple[str, str, str]:
    """(page key, title, short title) for a metadata "paper" string; ``papers/NNN`` in it is the
    key, so "..., CRU-Net (papers/001)" and "..., CRU-Net (papers/001), Tables 6-7" share a page."""
    m = re.search(r"papers/(\d+)", paper)
    if m:
        title = paper[: m.end()].rstrip()
        if title.count("(") > title.count(")"):
            title += ")"
        name = re.sub(r"\s*\(?papers/\d+\)?\s*$", "", title).rsplit(",", 1)[-1].strip()
        return f"paper-{m.group(1)}", title, f"{m.group(1)} {name}".strip()
    slug = re.sub(r"[^a-z0-9]+", "-", paper.lower()).strip("-")[:60] or "paper"
    return f"paper-{slug}", paper, paper if len(paper) <= 40 else paper[:38] + "…"


def discover(results: Path, out: Path, exclude=DEFAULT_EXCLUDE) -> tuple[list[TableEntry], list[Path]]:
    """The tables (one per stem) in ``results`` and its sub-directories, and the figures that
    belong to none. Nothing is read yet."""
    out_r = out.resolve()
    dirs = [results]
    for d in sorted(results.iterdir(), key=lambda p: natural_key(p.name)):
        if (d.is_dir() and not d.name.startswith((".", "_")) and d.name not in exclude
                and d.resolve() != out_r and any(p.suffix == ".csv" for p in d.iterdir())):
            dirs.append(d)
    entries, loose = [], []
    for d in dirs:
        files = sorted((p for p in d.iterdir() if p.is_file()), key=lambda p: natural_key(p.name))
        csvs = {p.name[:-4]: p for p in files if p.name.endswith(".csv")}
        metas = {p.name[: -len(".meta.json")]: p for p in files if p.name.endswith(".meta.json")}
        primaries = {s for s in csvs if not s.endswith(("_long", "_loss"))} | set(metas)
        for s in csvs:  # a _long / _loss CSV without its table is a table of its own
            if s.endswith(("_long", "_loss")) and s[:-5] not in primaries:
                primaries.add(s)
        rel = "" if d == results else d.name + "/"
        by_stem = {}
        for s in sorted(primaries, key=natural_key):
            e = TableEntry(key=rel + s, directory=d, stem=s, wide_path=csvs.get(s), meta_path=metas.get(s),
                           long_path=csvs.get(s + "_long") if s + "_long" not in primaries else None,
                           loss_path=csvs.get(s + "_loss") if s + "_loss" not in primaries else None)
            by_stem[s] = e
            entries.append(e)
        for p in files:
            if p.suffix.lower() not in FIGURE_SUFFIXES:
                continue
            owner = max((s for s in by_stem if p.stem == s or p.stem.startswith(s + "_")), key=len, default=None)
            (by_stem[owner].figures if owner else loose).append(p)
    return entries, loose


def load_entry(e: TableEntry) -> None:
    """Read the files of one table; problems are recorded, never raised."""
    for attr in ("wide", "long", "loss"):
        path = getattr(e, attr + "_path")
        if path is not None:
            try:
                setattr(e, attr, read_csv(path))
            except SiteInputError as err:
                e.problems.append(str(err))
    if e.wide_path is None and e.long_path is None and e.meta_path is not None:
        e.problems.append(f"{e.directory / (e.stem + '.csv')}: file not found (there is {e.meta_path.name})")
    if e.meta_path is not None:
        try:
            e.meta = read_json(e.meta_path)
        except SiteInputError as err:
            e.problems.append(str(err))
    paper = (e.meta or {}).get("paper")
    if isinstance(paper, str) and paper.strip():
        e.paper_key, e.paper_title, e.paper_short = paper_group(paper.strip())
        e.page = e.paper_key + ".html"


# ------------------------------------------------------------------------------ model cards


def fmt(v) -> str:
    """A JSON scalar for display: floats without binary noise (51.339999999999996 -> 51.34)."""
    if isinstance(v, float) and math.isfinite(v):
        return format(v, ".10g")
    return str(v)


def _flat_scalars(d: dict, prefix: str = "", depth: int = 1) -> list[tuple[str, str]]:
    items = []
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            if depth > 0 and v and all(not isinstance(x, (dict, list)) for x in v.values()):
                items += _flat_scalars(v, name + ".", depth - 1)
        elif isinstance(v, list):
            if v and len(v) <= 8 and all(not isinstance(x, (dict, list)) for x in v):
                items.append((name, ", ".join(fmt(x) for x in v)))
        elif v is not None:
            items.append((name, fmt(v)))
    return items


def _human_bytes(n) -> str:
    v = parse_number(n)
    if v is None:
        return str(n)
    for unit in ("B", "kB", "MB", "GB"):
        if v < 1000 or unit == "GB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1000


# where a result's .meta.json records the models its run used (their source and sha256, at any depth below
# these keys; "sources": crunet_table6_7_similarity.meta.json's per-dataset restorer records)
MODEL_KEYS = ("target", "targets", "restorer", "restorers", "models", "sources")


def _model_records(meta: dict | None):
    """Every record under a meta's :data:`MODEL_KEYS` (at any depth) that names a model file's ``sha256``."""
    def walk(x):
        if isinstance(x, dict):
            if isinstance(x.get("sha256"), str):
                yield x
            for v in x.values():
                yield from walk(v)
        elif isinstance(x, list):
            for v in x:
                yield from walk(v)

    if meta:
        yield from walk({k: meta.get(k) for k in MODEL_KEYS})


def _shipped_name(record: dict) -> str | None:
    """The shipped model a record names (``"source": "saved_models/<name>.keras"``), else None."""
    m = re.match(r"saved_models/([A-Za-z0-9_.-]+)\.keras", str(record.get("source") or ""))
    return m.group(1) if m else None


def _sha_index(entries: list[TableEntry]) -> dict[str, list[TableEntry]]:
    index: dict = {}
    for e in entries:
        for record in _model_records(e.meta):
            tables = index.setdefault(record["sha256"], [])
            if e not in tables:
                tables.append(e)
    return index


def _equivalents(entry) -> list:
    """Earlier sha256s of the same model (a re-export with the same weights and outputs:
    ``reproduce/reexport_builtin_layers.py``), from its manifest entry."""
    eq = entry.get("equivalent_sha256") if isinstance(entry, dict) else None
    return [x for x in eq if isinstance(x, str)] if isinstance(eq, list) else []


def _used_in(index: dict, shas: list) -> list:
    found = []
    for h in shas:
        found += [e for e in index.get(h, []) if e not in found]
    return found


def stale_models(meta: dict | None, manifest: dict) -> list[dict]:
    """The shipped models a result's run loaded (a ``"source": "saved_models/<name>.keras"`` record with its
    ``sha256`` under the meta's :data:`MODEL_KEYS`) whose file is now
    another one (not one of its ``equivalent_sha256``), or no longer shipped: ``[{"name", "used", "now"}]``
    (``now`` None when not shipped). Such a table was made with an earlier version of the model, and running it again may give other numbers."""
    found: dict[str, dict] = {}
    for record in _model_records(meta):
        name, sha = _shipped_name(record), record["sha256"]
        if name is None:
            continue
        entry = manifest.get(name)
        now = entry.get("sha256") if isinstance(entry, dict) else None
        if now != sha and sha not in _equivalents(entry):
            found.setdefault(name, {"name": name, "used": sha, "now": now})
    return [found[k] for k in sorted(found)]


@dataclass
class Freshness:
    """Whether one results table was made with the shipped models ``saved_models/`` holds now. ``status``:
    ``"stale"`` (its meta records a shipped model replaced since, or no longer shipped), ``"current"`` (every
    shipped model it records is the one there now), ``"unrecorded"`` (it records no shipped model's sha256: a
    table that loads none, a ``--retrain`` run, or a script that does not record them; unknown, then) or
    ``"unreadable"`` (a malformed ``.meta.json``). A companion CSV without a meta (``<stem>_adaptive.csv``)
    has its table's status."""
    key: str                  # the table's key on the site: "<stem>" or "<sub-directory>/<stem>"
    status: str               # see above
    models: list[str]         # the shipped models its meta records (by name)
    stale: list[dict]         # stale_models(...): [{"name", "used", "now"}]
    problem: str = ""         # why "unreadable"; for a companion CSV, the table whose run wrote it


def freshness(results, models, *, exclude=DEFAULT_EXCLUDE) -> list[Freshness]:
    """Each table in ``results`` (as the site finds them) against ``models/manifest.json``: a table whose
    meta records the sha256 of a shipped model that has been replaced since is ``"stale"`` (the site's
    "made with an earlier version" note); ``python -m keras_restore.report --stale`` prints this, and
    ``reproduce/cifar10_paper_scale.sh``'s step 5 reruns only the tables that are not ``"current"``.

    Raises :class:`SiteBuildError` when ``results`` is not a directory or the manifest cannot be read."""
    results, models = Path(results), Path(models)
    if not results.is_dir():
        raise SiteBuildError(f"{results}: results directory not found (run from the repository root or pass --results)")
    manifest_path = models / "manifest.json"
    try:
        manifest = read_json(manifest_path)
    except SiteInputError as e:
        raise SiteBuildError(f"{e} (--models: the directory with manifest.json)") from None
    entries, _ = discover(results, results / "site", exclude)
    by_key: dict[str, Freshness] = {}
    for e in sorted(entries, key=lambda e: e.meta_path is None):   # a companion after its table
        if e.meta_path is None:
            # a companion CSV of a table's run (<stem>_adaptive.csv beside <stem>.meta.json): its table's status
            owner = max((k for k in by_key if e.key.startswith(k + "_")), key=len, default=None)
            f = by_key.get(owner)
            by_key[e.key] = (Freshness(e.key, f.status, f.models, f.stale, f"written with {owner}") if f else
                             Freshness(e.key, "unrecorded", [], [], f"{e.directory / (e.stem + '.meta.json')}: not found"))
            continue
        try:
            meta = read_json(e.meta_path)
        except SiteInputError as err:
            by_key[e.key] = Freshness(e.key, "unreadable", [], [], str(err))
            continue
        names = sorted({n for n in map(_shipped_name, _model_records(meta)) if n})
        stale = stale_models(meta, manifest)
        by_key[e.key] = Freshness(e.key, "stale" if stale else ("current" if names else "unrecorded"), names, stale)
    return [by_key[e.key] for e in entries]


def model_cards(manifest: dict, models_dir: Path, entries: list[TableEntry], problems: list[str],
                manifest_path: Path) -> list[dict]:
    used = _sha_index(entries)
    cards = []
    for name, entry in manifest.items():
        if not isinstance(entry, dict):
            problems.append(f"{manifest_path}: entry {name!r} is a {type(entry).__name__}, expected an object")
            continue
        training = entry.get("training") if isinstance(entry.get("training"), dict) else {}
        metrics = entry.get("metrics") if isinstance(entry.get("metrics"), dict) else {}
        metric_items = _flat_scalars(metrics, depth=2) if metrics else []
        if not any(k.startswith("test_accuracy") for k, _ in metric_items):
            for src in (entry, training):
                if src.get("test_accuracy") is not None:
                    metric_items.insert(0, ("test_accuracy", fmt(src["test_accuracy"])))
                    break
        params = next((entry[k] for k in ("parameters", "n_parameters", "params", "param_count")
                       if entry.get(k) is not None), None)
        precision = next((str(src[k]) for src in (entry, training) for k in ("precision", "dtype", "dtype_policy")
                          if src.get(k)), "float32")
        quantized = entry.get("quantized") or {}
        if quantized:   # trained in `precision`, shipped with some layers quantized (models/quantize.py)
            precision = (f"trained in {precision}; shipped with {', '.join(quantized.get('layers') or ['?'])} in "
                         f"{quantized.get('mode', '?')}")
            if quantized.get("max_abs_output_diff") is not None:
                precision += (f" (largest output difference {quantized['max_abs_output_diff']:.1e} on "
                              f"{quantized.get('checked_on', '?')})")
        builder = str(entry.get("builder", name))
        kwargs = entry.get("kwargs") or {}
        if kwargs:
            builder += "(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
        sha = entry.get("sha256")
        path = models_dir / f"{name}.keras"
        cards.append({
            "name": name, "builder": builder, "parameters": params, "precision": precision,
            "paper": entry.get("paper"), "table": entry.get("table"), "scale": entry.get("scale"),
            "seed": entry.get("seed"), "data": entry.get("data"),
            "training": _flat_scalars(training), "metrics": metric_items,
            "sha256": sha, "bytes": entry.get("bytes"), "bytes_human": _human_bytes(entry.get("bytes")),
            "versions": [(k, str(entry[k])) for k in ("keras", "tensorflow", "package_version") if entry.get(k)],
            "file": path if path.exists() else None,
            "used_in": _used_in(used, ([sha] if isinstance(sha, str) else []) + _equivalents(entry)),
        })
    return cards


# --------------------------------------------------------------------------------- rendering


def _meta_view(meta: dict | None) -> dict:
    view = {"present": bool(meta), "scale_name": None, "scale_note": None, "scale_items": [], "seed": None,
            "data_source": None, "versions": [], "timings": [], "machine": None, "definitions": [],
            "wall_seconds": None, "eval_selection": None}
    if not meta:
        return view
    for key in ("seed", "data_source", "wall_seconds", "eval_selection"):
        if meta.get(key) is not None and not isinstance(meta[key], (dict, list)):
            view[key] = fmt(meta[key])
    scale = meta.get("scale")
    if isinstance(scale, dict):
        view["scale_name"] = scale.get("name")
        view["scale_note"] = scale.get("note")
        view["scale_items"] = [(k, v if isinstance(v, str) else json.dumps(v, sort_keys=True))
                               for k, v in scale.items() if k not in ("name", "note")]
    elif scale is not None:
        view["scale_name"] = str(scale)
    for key in ("versions", "timings"):
        if isinstance(meta.get(key), dict):
            view[key] = [(k, fmt(v)) for k, v in meta[key].items()]
    machine = meta.get("machine")
    if isinstance(machine, dict):
        view["machine"] = ", ".join(f"{k} {v}" for k, v in machine.items())
    elif machine:
        view["machine"] = str(machine)
    if isinstance(meta.get("metric_definitions"), dict):
        view["definitions"] = [(k, str(v)) for k, v in meta["metric_definitions"].items()]
    return view


@dataclass
class BuildResult:
    out: Path
    pages: list[str]
    problems: list[str]
    n_tables: int
    n_models: int
    stale: dict[str, list[dict]] = field(default_factory=dict)   # table key -> stale_models(...)


class _Renderer:
    def __init__(self, results: Path, models: Path, out: Path, tmp: Path, copy_assets: bool):
        self.results, self.models, self.out, self.tmp, self.copy_assets = results, models, out, tmp, copy_assets
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                                      undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                      keep_trailing_newline=True)
        self.env.filters["href"] = self.href
        self.env.globals["thresholds"] = THRESHOLDS
        self.env.globals["copy_assets"] = copy_assets

    def href(self, path) -> str:
        """A relative link from the site's root to ``path`` (copied into ``files/`` with copy_assets)."""
        path = Path(path).resolve()
        if self.copy_assets:
            for base, prefix in ((self.results.resolve(), "files/results"), (self.models.resolve(), "files/models")):
                try:
                    rel = path.relative_to(base)
                except ValueError:
                    continue
                dest = self.tmp / prefix / rel
                if not dest.exists():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, dest)
                return quote(f"{prefix}/{rel.as_posix()}")
        return quote(Path(os.path.relpath(path, self.out.resolve())).as_posix())

    def page(self, name: str, template: str, **ctx) -> str:
        html = self.env.get_template(template).render(**ctx)
        (self.tmp / name).write_text(html, encoding="utf-8")
        return name


def build_site(results, models, out, *, exclude=DEFAULT_EXCLUDE, copy_assets: bool = False) -> BuildResult:
    """Render the site into ``out`` (atomically: a temporary directory beside it is swapped in).

    Raises :class:`SiteBuildError` when nothing could be rendered; the previous site stays."""
    results, models, out = Path(results), Path(models), Path(out)
    missing = [p for p in (TEMPLATES, *(STATIC / n for n in STATIC_FILES)) if not p.exists()]
    if missing:
        raise SiteBuildError(f"{missing[0]}: not found; keras_restore was installed without the site's templates "
                             "and static files (package data): install with `pip install -e .` from the repository")
    if not results.is_dir():
        raise SiteBuildError(f"{results}: results directory not found (run from the repository root or pass --results)")
    problems: list[str] = []
    entries, loose = discover(results, out, exclude)
    for e in entries:
        load_entry(e)
        problems += e.problems

    manifest_path = models / "manifest.json"
    cards: list[dict] = []
    model_problems: list[str] = []
    if manifest_path.exists():
        try:
            manifest = read_json(manifest_path)
            cards = model_cards(manifest, models, entries, model_problems, manifest_path)
            for e in entries:
                e.stale = stale_models(e.meta, manifest)
        except SiteInputError as err:
            model_problems.append(str(err))
    else:
        model_problems.append(f"{manifest_path}: file not found (no model cards)")
    problems += model_problems

    rendered = [e for e in entries if e.rendered]
    if not rendered and not cards:
        raise SiteBuildError("nothing to render: " + ("; ".join(problems) if problems else f"no tables in {results}"))

    # pages: one per paper (natural order of the key), then "other", then models
    papers: dict[str, dict] = {}
    for e in entries:
        papers.setdefault(e.paper_key, {"key": e.paper_key, "title": e.paper_title, "short": e.paper_short,
                                        "page": e.page, "entries": []})
        papers[e.paper_key]["entries"].append(e)
    order = sorted((k for k in papers if k != "other"), key=natural_key) + (["other"] if "other" in papers else [])
    groups = [papers[k] for k in order]
    for g in groups:
        g["entries"].sort(key=lambda e: (e.key.count("/"), natural_key(e.key)))
    if loose and "other" not in papers:
        groups.append({"key": "other", "title": "Other results", "short": "Other results", "page": OTHER_PAGE,
                       "entries": []})

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        r = _Renderer(results, models, out, tmp, copy_assets)
        (tmp / "static").mkdir()
        for name in STATIC_FILES:
            shutil.copyfile(STATIC / name, tmp / "static" / name)

        views = {}
        for e in entries:
            v = {"entry": e, "grid": None, "adaptive": None, "loss": None, "long": None, "meta": _meta_view(e.meta),
                 "files": [p for p in (e.wide_path, e.long_path, e.loss_path, e.meta_path)
                           if p is not None and p.exists()]}
            if e.main is not None:
                v["grid"] = build_grid(e.main, e.anchor, with_adaptive=True)
            if e.long is not None and e.wide is not None:
                v["adaptive"] = adaptive_grid(e.long, e.anchor + "--adaptive")
                v["long"] = build_grid(e.long, e.anchor + "--long", caption=f"Every metric ({e.long.path.name})")
            if e.loss is not None:
                summary = loss_summary(e.loss)
                caption = f"Restoration loss ({e.loss.path.name})" + (", summary" if summary else "")
                v["loss"] = build_grid(summary or e.loss, e.anchor + "--loss", caption=caption)
            views[e.key] = v

        leaderboard = next((e for e in entries if e.key == LEADERBOARD[:-4]), None)
        nav = [{"page": "index.html", "title": "Overview", "long": "Overview of every result"}]
        nav += [{"page": g["page"], "title": g["short"], "long": g["title"]} for g in groups]
        nav.append({"page": "models.html", "title": "Models", "long": "Model cards of the shipped models"})
        common = {"nav": nav, "groups": groups}
        pages = [r.page("index.html", "index.html.j2", current="index.html", problems=problems,
                        leaderboard=views[leaderboard.key] if leaderboard else None, views=views,
                        n_models=len(cards), results_name=str(results), **common)]
        for g in groups:
            pages.append(r.page(g["page"], "paper.html.j2", current=g["page"], group=g,
                                views=[views[e.key] for e in g["entries"]],
                                loose=loose if g["key"] == "other" else [], **common))
        pages.append(r.page("models.html", "models.html.j2", current="models.html", cards=cards,
                            problems=model_problems, manifest=manifest_path if manifest_path.exists() else None,
                            **common))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap_in(tmp, out)
    return BuildResult(out, pages, problems, len(rendered), len(cards), {e.key: e.stale for e in entries if e.stale})


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` by ``tmp``: two renames on one file system (the old site is moved aside
    first and put back if the second rename fails), then the old site is deleted."""
    os.chmod(tmp, 0o755)
    old = None
    if out.exists() or out.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()
