"""Render the static results site: ``python -m keras_restore.report`` (also ``keras-restore report``).

Reads ``reproduce/results`` (wide / long / loss CSVs, ``.meta.json``, figures) and
``saved_models/manifest.json`` and writes ``reproduce/results/site/``: ``index.html`` (every
table, and the leaderboard when ``adaptive_robustness.csv`` exists), one page per paper, and
``models.html`` (model cards). Open ``index.html`` from disk; no server is needed.

The site is rendered into a temporary directory beside ``--out`` and swapped in at the end, so a
failure never replaces a good site with a half-written one. A missing or malformed file is
reported (stderr, and a warning on the page) and the rest is rendered. A table made with an earlier
version of a shipped model than ``saved_models/`` holds now (its sha256 in the ``.meta.json``) gets a
note on its page and on stderr; it is not a problem for ``--strict``. Exit status: 0; 1 when
nothing could be rendered, or with ``--strict`` when any file had a problem; 2 for bad usage.

``--stale`` prints, instead of a site, each table's freshness (``stale``: made with an earlier version of a
shipped model; ``current``; ``unrecorded``: its meta names no shipped model's sha256; ``unreadable``), one
tab-separated line per table; ``reproduce/cifar10_paper_scale.sh``'s step 5 reruns the tables that are not
``current``.

``--markdown CSV`` (repeatable; ``--columns A,B`` to keep some) prints results CSVs as Markdown tables
instead (exit 1 if one cannot be read or a column is not in it) and writes no site.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--results", default="reproduce/results", help="results directory (default: %(default)s)")
    p.add_argument("--models", default="saved_models", help="directory with manifest.json (default: %(default)s)")
    p.add_argument("--out", help="output directory (default: RESULTS/site)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any input file had a problem")
    p.add_argument("--copy-assets", action="store_true",
                   help="copy figures and raw files into OUT/files/ (a self-contained site) instead of linking "
                        "them relatively")
    p.add_argument("--exclude", action="append", metavar="DIR",
                   help="sub-directory of RESULTS to skip (repeatable; default: quick)")
    p.add_argument("--quiet", action="store_true", help="print only problems")
    p.add_argument("--markdown", action="append", metavar="CSV",
                   help="print this results CSV as a Markdown table (ours / paper (difference) cells, adaptive "
                        "columns beside their oblivious ones) and write no site (the site options are then "
                        "not used); repeatable")
    p.add_argument("--columns", metavar="A,B,...",
                   help="with --markdown: keep only these columns of the rendered table, in this order")
    p.add_argument("--stale", action="store_true",
                   help="print each table's freshness against saved_models/ (one line each, tab-separated: key, "
                        "stale / current / unrecorded / unreadable, the shipped models it records, and for a stale "
                        "one which were replaced) and write no site")
    return p


def build_parser() -> argparse.ArgumentParser:
    return add_arguments(argparse.ArgumentParser(prog="python -m keras_restore.report",
                                                 description=__doc__.split("\n\n")[0]))


def print_markdown(paths, columns=None) -> int:
    """``--markdown``: each CSV as a Markdown table on stdout; 1 (the file named on stderr) if one
    cannot be read or a ``--columns`` label is not in it."""
    from keras_restore.site.build import SiteInputError, markdown_table, read_csv

    keep = [c.strip() for c in columns.split(",") if c.strip()] if columns is not None else None
    for i, path in enumerate(paths):
        try:
            text = markdown_table(read_csv(Path(path)), columns=keep)
        except (SiteInputError, ValueError) as e:
            print(f"keras_restore.report: error: {e}", file=sys.stderr)
            return 1
        print(("\n" if i else "") + f"<!-- {path} -->\n" + text, end="")
    return 0


def print_freshness(results: Path, models: Path, exclude) -> int:
    """``--stale``: one tab-separated line per table (key, status, recorded models, replaced models);
    1 (the reason on stderr) when the results directory or the manifest cannot be read."""
    from keras_restore.site.build import SiteBuildError, freshness

    try:
        tables = freshness(results, models, exclude=exclude)
    except SiteBuildError as e:
        print(f"keras_restore.report: error: {e}", file=sys.stderr)
        return 1
    for t in tables:
        replaced = ", ".join(f"{s['name']} ({s['used'][:12]} -> {s['now'][:12] if s['now'] else 'not shipped'})"
                             for s in t.stale)
        print("\t".join((t.key, t.status, ",".join(t.models), replaced or t.problem)))
    return 0


def run(args) -> int:
    from keras_restore.site.build import DEFAULT_EXCLUDE, SiteBuildError, build_site

    if args.markdown:
        if args.stale:
            print("keras_restore.report: error: --stale and --markdown are two different outputs: pass one",
                  file=sys.stderr)
            return 2
        return print_markdown(args.markdown, args.columns)
    if args.columns is not None:
        print("keras_restore.report: error: --columns needs --markdown", file=sys.stderr)
        return 2

    results = Path(args.results)
    out = Path(args.out) if args.out else results / "site"
    exclude = tuple(args.exclude) if args.exclude else DEFAULT_EXCLUDE
    if args.stale:
        return print_freshness(results, Path(args.models), exclude)
    try:
        res = build_site(results, Path(args.models), out, exclude=exclude, copy_assets=args.copy_assets)
    except SiteBuildError as e:
        print(f"keras_restore.report: error: {e}", file=sys.stderr)
        print(f"keras_restore.report: nothing written; {out} is unchanged", file=sys.stderr)
        return 1
    for p in res.problems:
        print(f"keras_restore.report: problem: {p}", file=sys.stderr)
    for key, items in res.stale.items():   # not a problem (--strict passes): the page says so beside the table
        print(f"keras_restore.report: note: {key} was made with an earlier version of "
              + ", ".join(f"{s['name']}.keras" for s in items), file=sys.stderr)
    if not args.quiet:
        print(f"wrote {res.out}/index.html: {len(res.pages)} pages, {res.n_tables} tables, "
              f"{res.n_models} model cards" + (f", {len(res.problems)} problem(s)" if res.problems else ""))
    return 1 if (args.strict and res.problems) else 0


def cli_command(args) -> None:
    """``keras-restore report``: the same as ``python -m keras_restore.report``."""
    rc = run(args)
    if rc:
        raise SystemExit(rc)


def main(argv=None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
