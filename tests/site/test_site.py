"""The static results site (``python -m keras_restore.report``): rendering from a tiny results
directory made here, bad input (the error names the file, the rest is still written), atomic
replacement, and a real browser (headless Chromium: tables, images, links, sorting)."""

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from keras_restore import cli
from keras_restore.report import main
from keras_restore.site import build

REPO = Path(__file__).resolve().parents[2]
PAPERS = ("Doe et al. 2024, Demo Restorer (papers/000)", "Roe et al. 2023, Other Net (papers/001), Tables 6-7")


def png(path: Path, width: int = 4, height: int = 3) -> Path:
    """A valid RGB PNG (a tiny gradient), written without any imaging library."""
    raw = b"".join(b"\x00" + bytes(c for x in range(width) for c in ((x * 60) % 256, (y * 80) % 256, 128))
                   for y in range(height))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


DEMO_CSV = """
target,clean_accuracy,clean_accuracy_paper,FGSM,FGSM_paper,FGSM_delta,PGD,PGD_paper,PGD_delta
M1,99.10,99.00,98.50,99.00,-0.50,97.00,,
M2,97.00,99.00,90.00,99.00,-9.00,95.00,99.00,-4.00
M3,98.00,99.00,50.00,99.00,-49.00,96.00,99.00,-3.00
"""
DEMO_LONG = """
table,target,attack,restored_accuracy,adaptive_restored_accuracy,success_rate,success_rate_paper,success_rate_delta
demo,M1,FGSM,98.50,40.00,98.50,99.00,-0.50
demo,M1,PGD,97.00,12.50,97.00,,
demo,M2,FGSM,90.00,35.00,90.00,99.00,-9.00
"""
SIM_CSV = """
dataset,metric,FGSM,FGSM_paper,FGSM_delta,n_images
mnist,SSIM,0.9500,0.9900,-0.0400,100
mnist,PSNR,30.00,31.00,-1.00,100
"""
LEADERBOARD = """
defense,dataset,clean_accuracy,paper_claim,oblivious_accuracy,adaptive_accuracy
restorer,mnist,99.0,98.0,97.5,12.0
<b>crunet</b>,mnist,99.2,99.3,88.0,3.5
bitdepth,cifar10,80.0,85.0,60.0,0.5
"""


def meta(paper, title, **extra):
    return json.dumps({"table": title, "title": title, "paper": paper, "seed": 7,
                       "scale": {"name": "tiny", "note": "made by the test", "n_eval": 3},
                       "versions": {"keras": "3.99", "python": "3.11"},
                       "timings": {"phase1_s": 1.5}, "wall_seconds": 2.25, **extra})


@pytest.fixture
def fixture_dirs(tmp_path):
    res = tmp_path / "results"
    write(res / "table1_demo.csv", DEMO_CSV)
    write(res / "table1_demo_long.csv", DEMO_LONG)
    write(res / "table1_demo.meta.json", meta(PAPERS[0], "Demo Table 1: success rate"))
    png(res / "table1_demo_bars.png", 40, 30)
    write(res / "sim_table.csv", SIM_CSV)
    write(res / "sim_table.meta.json", meta(PAPERS[1], "Other Tables 6-7: similarity"))
    write(res / "adaptive_robustness.csv", LEADERBOARD)
    write(res / "retrain" / "table1_demo.csv", DEMO_CSV)
    write(res / "retrain" / "table1_demo.meta.json", meta(PAPERS[0], "Demo Table 1 (retrain)"))
    write(res / "quick" / "ignored.csv", "a,b\n1,2\n")
    models = tmp_path / "models"
    write(models / "manifest.json", json.dumps({
        "tiny_clf": {"sha256": "ab" * 32, "bytes": 1234567, "builder": "m1", "kwargs": {}, "parameters": 4321,
                     "precision": "mixed_float16", "paper": PAPERS[0], "table": "Table 3", "scale": "retrain",
                     "seed": 0, "training": {"config": {"epochs": 2, "batch_size": 8}, "seconds": 1.5,
                                             "test_accuracy": 51.339999999999996},
                     "metrics": {"test_accuracy": 51.339999999999996}, "keras": "3.99"},
        "tiny_restorer": {"sha256": "cd" * 32, "bytes": 99, "builder": "restorer_mnist",
                          "kwargs": {"variant": "stable"}, "training": {"n_pairs": 10},
                          "metrics": {"clean_through_restorer_accuracy": {"M1": 99.5}}},
    }))
    (models / "tiny_clf.keras").write_bytes(b"not really a model")
    return res, models, tmp_path / "site"


def render(res, models, out, *extra):
    return main(["--results", str(res), "--models", str(models), "--out", str(out), *map(str, extra)])


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def table_html(page: str, key: str) -> str:
    m = re.search(rf'<table class="sortable[^"]*" data-table="{re.escape(key)}">(.*?)</table>', page, re.S)
    assert m, f"no table {key!r} on the page"
    return m.group(1)


def headers(table: str) -> list[str]:
    return re.findall(r"<th[^>]*><button type=\"button\">(.*?)</button></th>", table)


def body_rows(table: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)


# ------------------------------------------------------------------------------- rendering


def test_renders_every_page_from_the_fixture(fixture_dirs, capsys):
    res, models, out = fixture_dirs
    assert render(res, models, out) == 0
    assert "4 tables" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "models.html", "other.html", "paper-000.html",
                                                     "paper-001.html", "static"]
    assert sorted(p.name for p in (out / "static").iterdir()) == ["site.css", "site.js"]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".site.")]  # no temp dirs left

    index = read(out / "index.html")
    for link in ("paper-000.html#table1_demo", "paper-000.html#retrain-table1_demo", "paper-001.html#sim_table",
                 "other.html#adaptive_robustness", "models.html"):
        assert f'href="{link}"' in index
    assert "ignored" not in index  # quick/ is skipped by default
    # the two "papers/001" strings share one page, titled by the string up to "(papers/001)"
    assert "Roe et al. 2023, Other Net (papers/001)</a></h2>" in index


def test_cells_show_ours_paper_difference_coloured(fixture_dirs):
    res, models, out = fixture_dirs
    render(res, models, out)
    page = read(out / "paper-000.html")
    table = table_html(page, "table1_demo")
    assert headers(table) == ["target", "clean_accuracy", "FGSM", "PGD"]
    rows = body_rows(table)
    assert len(rows) == 3
    fgsm = [re.findall(r"<td[^>]*>.*?</td>", r)[2] for r in rows]
    assert 'class="cmp d-ok"' in fgsm[0] and ">98.50<" in fgsm[0] and ">99.00<" in fgsm[0] and ">-0.50<" in fgsm[0]
    assert 'class="cmp d-warn"' in fgsm[1] and 'class="cmp d-bad"' in fgsm[2]
    pgd_m1 = re.findall(r"<td[^>]*>.*?</td>", rows[0])[3]
    assert 'class="cmp d-na"' in pgd_m1  # no paper value
    clean_m1 = re.findall(r"<td[^>]*>.*?</td>", rows[0])[1]
    assert ">+0.10<" in clean_m1  # the difference is computed when the CSV has no _delta column

    # SSIM lies on a 0-1 scale: a difference of 0.04 is 4 points (amber); PSNR -1 dB stays green
    sim = body_rows(table_html(read(out / "paper-001.html"), "sim_table"))
    assert 'class="cmp d-warn"' in sim[0] and 'class="cmp d-ok"' in sim[1]


def test_adaptive_columns_side_by_side_and_leaderboard(fixture_dirs):
    res, models, out = fixture_dirs
    render(res, models, out)
    adaptive = table_html(read(out / "paper-000.html"), "table1_demo--adaptive")
    assert headers(adaptive) == ["target", "attack", "restored_accuracy", "adaptive_restored_accuracy",
                                 "adaptive_restored_accuracy − restored_accuracy"]
    assert len(body_rows(adaptive)) == 3 and ">-58.50<" in body_rows(adaptive)[0]

    index = read(out / "index.html")
    board = table_html(index, "adaptive_robustness")
    assert headers(board) == ["defense", "dataset", "clean_accuracy", "paper_claim", "oblivious_accuracy",
                              "adaptive_accuracy", "adaptive_accuracy − oblivious_accuracy",
                              "adaptive_accuracy − paper_claim"]
    assert len(body_rows(board)) == 3
    assert "&lt;b&gt;crunet&lt;/b&gt;" in board and "<b>crunet</b>" not in index  # autoescaped


def test_wide_table_adaptive_column_follows_its_oblivious_one(tmp_path):
    table = build.read_csv(write(tmp_path / "t.csv", """
target,FGSM_adaptive,FGSM,FGSM_paper,FGSM_delta,PGD
M1,10.0,95.0,99.0,-4.0,90.0
"""))
    grid = build.build_grid(table, "t", with_adaptive=True)
    assert [c.label for c in grid.columns] == ["target", "FGSM", "FGSM_adaptive", "FGSM_adaptive − FGSM", "PGD"]
    assert [c.text for c in grid.rows[0]] == ["M1", "95.0", "10.0", "-85.0", "90.0"]
    assert grid.rows[0][3].cls == "num d-bad" and grid.counts == {"ok": 0, "warn": 1, "bad": 1, "na": 0}


def test_small_percentages_are_not_mistaken_for_fractions(tmp_path):
    table = build.read_csv(write(tmp_path / "t.csv", """
target,adversarial_accuracy,adversarial_accuracy_paper,ssim,ssim_paper
M1,0.10,0.50,0.90,0.99
M2,0.00,0.90,0.95,0.99
"""))
    grid = build.build_grid(table, "t")
    assert [[c.cls for c in row[1:]] for row in grid.rows] == [["cmp d-ok", "cmp d-warn"], ["cmp d-ok", "cmp d-warn"]]


def test_figures_meta_and_model_cards(fixture_dirs):
    res, models, out = fixture_dirs
    render(res, models, out)
    page = read(out / "paper-000.html")
    assert '<img src="../results/table1_demo_bars.png"' in page
    for text in ("<strong>tiny</strong> — made by the test", "seed 7", '<span class="k">keras</span> 3.99',
                 '<span class="k">phase1_s</span> 1.5', '<span class="k">wall</span> 2.25'):
        assert text in page

    cards = read(out / "models.html")
    clf, restorer = cards.split('id="model-tiny_restorer"')
    assert "mixed_float16" in clf and "4321" in clf and "51.34" in clf and "51.3399" not in clf
    assert "ab" * 32 in clf and "1.2 MB (1234567 bytes)" in clf and 'href="../models/tiny_clf.keras"' in clf
    assert "<dd>float32</dd>" in restorer and "clean_through_restorer_accuracy.M1" in restorer
    assert "restorer_mnist(variant=&#39;stable&#39;)" in restorer
    assert "Parameters" not in restorer  # shown only where the manifest records it


def test_a_quantized_model_card_says_so(fixture_dirs):
    res, models, out = fixture_dirs
    manifest = json.loads(read(models / "manifest.json"))
    manifest["tiny_restorer"]["quantized"] = {"mode": "int8", "layers": ["bottleneck_dense"],
                                              "max_abs_output_diff": 0.00123, "checked_on": "256 test images"}
    write(models / "manifest.json", json.dumps(manifest))
    render(res, models, out)
    restorer = read(out / "models.html").split('id="model-tiny_restorer"')[1]
    assert ("trained in float32; shipped with bottleneck_dense in int8 (largest output difference 1.2e-03 on "
            "256 test images)") in restorer


def test_a_table_made_with_an_earlier_model_says_so(fixture_dirs, capsys):
    """A shipped model replaced since a table's run (another sha256, not one of its equivalent_sha256) is named on
    the table's page, flagged in the index and noted on stderr; --strict still passes (it is not a problem)."""
    res, models, out = fixture_dirs
    manifest = json.loads(read(models / "manifest.json"))
    manifest["tiny_restorer"]["equivalent_sha256"] = ["ef" * 32]   # a re-export of the same weights
    write(models / "manifest.json", json.dumps(manifest))
    used = {"targets": {"M1": {"source": "saved_models/tiny_clf.keras", "sha256": "01" * 32}},
            "restorer": {"source": "saved_models/tiny_restorer.keras", "sha256": "ef" * 32}}
    write(res / "table1_demo.meta.json", meta(PAPERS[0], "Demo Table 1: success rate", **used))
    write(res / "sim_table.meta.json", meta(PAPERS[1], "Other Tables 6-7: similarity",
                                            models={"gone": {"source": "saved_models/gone.keras", "sha256": "02" * 32}}))
    assert render(res, models, out, "--strict") == 0
    err = capsys.readouterr().err
    assert "note: table1_demo was made with an earlier version of tiny_clf.keras" in err
    assert "note: sim_table was made with an earlier version of gone.keras" in err
    assert "tiny_restorer" not in err
    section = read(out / "paper-000.html").split('id="table1_demo"')[1].split("</section>")[0]
    assert "Made with an earlier version of 1 shipped model" in section
    assert f"this run used sha256 <code>{'01' * 6}</code>, shipped now <code>{'ab' * 6}</code>" in section
    assert "no longer shipped" in read(out / "paper-001.html")
    assert "earlier model" in read(out / "index.html")
    # the model card still lists the table made with an equivalent file of the restorer
    restorer_card = read(out / "models.html").split('id="model-tiny_restorer"')[1]
    assert "table1_demo" in restorer_card
    assert build.stale_models(None, manifest) == []


def test_stale_prints_each_tables_freshness_and_writes_no_site(fixture_dirs, capsys):
    """--stale: stale (an earlier file of a shipped model, or one no longer shipped), current, unrecorded (no sha256
    in the meta, or a companion CSV of such a table), records nested under "sources" (the similarity tables') too."""
    res, models, out = fixture_dirs
    used = {"targets": {"M1": {"source": "saved_models/tiny_clf.keras", "sha256": "01" * 32}}}
    write(res / "table1_demo.meta.json", meta(PAPERS[0], "Demo Table 1", **used))
    write(res / "table1_demo_adaptive.csv", "target,adaptive_accuracy\nM1,0.00\n")
    current = {"cifar10": {"restorer": {"rows": {"A": {"source": "saved_models/tiny_clf.keras", "sha256": "ab" * 32}}}}}
    write(res / "sim_table.meta.json", meta(PAPERS[1], "Other Tables 6-7", sources=current))
    write(res / "retrain" / "gone_table.csv", DEMO_CSV)
    write(res / "retrain" / "gone_table.meta.json", meta(PAPERS[0], "Gone", restorer={
        "source": "saved_models/gone.keras", "sha256": "02" * 32}))
    write(res / "broken.csv", "a\n1\n")
    write(res / "broken.meta.json", "{not json")
    assert render(res, models, out, "--stale") == 0
    assert not out.exists()
    lines = {ln.split("\t")[0]: ln.split("\t")[1:] for ln in capsys.readouterr().out.splitlines()}
    assert lines["table1_demo"] == ["stale", "tiny_clf", f"tiny_clf ({'01' * 6} -> {'ab' * 6})"]
    assert lines["table1_demo_adaptive"] == lines["table1_demo"]   # written by the same run
    assert lines["sim_table"] == ["current", "tiny_clf", ""]
    assert lines["retrain/gone_table"] == ["stale", "gone", f"gone ({'02' * 6} -> not shipped)"]
    assert lines["retrain/table1_demo"][0] == "unrecorded" and lines["adaptive_robustness"][0] == "unrecorded"
    assert lines["broken"][0] == "unreadable" and "malformed JSON" in lines["broken"][2]
    assert "quick/ignored" not in lines
    # the site flags the same tables
    assert render(res, models, out) == 0
    assert "Made with an earlier version" in read(out / "paper-000.html")


def test_stale_without_a_manifest_or_with_markdown_is_an_error(fixture_dirs, capsys):
    res, models, out = fixture_dirs
    (models / "manifest.json").unlink()
    assert render(res, models, out, "--stale") == 1
    assert "manifest.json" in capsys.readouterr().err
    assert main(["--stale", "--markdown", str(res / "table1_demo.csv")]) == 2
    assert "--stale and --markdown" in capsys.readouterr().err


def test_copy_assets_makes_a_self_contained_site(fixture_dirs):
    res, models, out = fixture_dirs
    assert render(res, models, out, "--copy-assets") == 0
    page = read(out / "paper-000.html")
    assert '<img src="files/results/table1_demo_bars.png"' in page
    assert (out / "files" / "results" / "table1_demo_bars.png").exists()
    assert_links_resolve(out)


# ------------------------------------------------------------------------------ bad input


def test_malformed_csv_names_the_file_and_the_rest_is_written(fixture_dirs, capsys):
    res, models, out = fixture_dirs
    bad = write(res / "broken.csv", "a,b,c\n1,2,3\n4,5,6,7\n")
    write(res / "broken.meta.json", meta(PAPERS[1], "Broken table"))
    assert render(res, models, out) == 0
    err = capsys.readouterr().err
    assert f"{bad}: line 3 has 4 fields, the header has 3" in err
    paper = read(out / "paper-001.html")
    assert f"{bad}: line 3 has 4 fields" in paper and 'class="warnings"' in paper
    assert 'data-table="sim_table"' in paper  # the good table on the same page
    assert f"{bad}: line 3" in read(out / "index.html")
    for name in ("index.html", "paper-000.html", "paper-001.html", "other.html", "models.html"):
        assert (out / name).exists()

    assert render(res, models, out, "--strict") == 1  # --strict fails, but still writes the site
    assert f"{bad}: line 3" in read(out / "paper-001.html")


@pytest.mark.parametrize("name,content,message", [
    ("empty.csv", "", "empty file (no header row)"),
    ("dup.csv", "a,a\n1,2\n", "duplicate column name(s) in the header: a"),
    ("quote.csv", 'a,b\n"1,2\n', "malformed CSV"),
    ("binary.csv", b"a,b\n\xff\xfe,1\n", "not UTF-8 text"),
    ("bad.meta.json", '{"paper": "x",}', "malformed JSON (line 1, column 15"),
    ("list.meta.json", "[1, 2]", "expected a JSON object at the top level, found list"),
])
def test_each_kind_of_bad_file_is_reported_with_its_name(fixture_dirs, capsys, name, content, message):
    res, models, out = fixture_dirs
    path = res / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert render(res, models, out) == 0
    err = capsys.readouterr().err
    assert f"problem: {path}: {message}" in err
    assert (out / "paper-000.html").exists()


def test_missing_or_malformed_manifest_is_a_warning(fixture_dirs, capsys):
    res, models, out = fixture_dirs
    (models / "manifest.json").write_text("{oops")
    assert render(res, models, out) == 0
    assert f"{models / 'manifest.json'}: malformed JSON" in read(out / "models.html")
    shutil.rmtree(models)
    assert render(res, models, out) == 0
    assert "manifest.json: file not found" in capsys.readouterr().err


def test_nothing_renderable_exits_nonzero_and_keeps_the_old_site(tmp_path, capsys):
    out = tmp_path / "site"
    write(out / "index.html", "old site")
    res = tmp_path / "results"
    write(res / "only.csv", "a,b\n1\n")
    assert render(res, tmp_path / "no-models", out) == 1
    err = capsys.readouterr().err
    assert f"{res / 'only.csv'}: line 2 has 1 fields" in err and "is unchanged" in err
    assert read(out / "index.html") == "old site"
    assert render(tmp_path / "nowhere", tmp_path / "no-models", out) == 1
    assert "results directory not found" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "site"]


def test_a_failing_render_keeps_the_old_site(fixture_dirs, monkeypatch):
    res, models, out = fixture_dirs
    assert render(res, models, out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    write(res / "table9_new.csv", "target,x\nM1,1\n")

    calls = []
    real_page = build._Renderer.page

    def failing_page(self, name, template, **ctx):
        calls.append(name)
        if len(calls) == 3:  # two pages already written into the temporary directory
            raise RuntimeError("disk full")
        return real_page(self, name, template, **ctx)

    monkeypatch.setattr(build._Renderer, "page", failing_page)
    with pytest.raises(RuntimeError, match="disk full"):
        build.build_site(res, models, out)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert "table9_new" not in read(out / "index.html")
    assert sorted(p.name for p in out.parent.iterdir()) == ["models", "results", "site"]  # no temp dirs left


def test_cli_report_subcommand(fixture_dirs, capsys):
    res, models, out = fixture_dirs
    assert cli.main(["report", "--results", str(res), "--models", str(models), "--out", str(out)]) == 0
    assert (out / "index.html").exists()
    write(res / "broken.csv", "a\n1,2\n")
    with pytest.raises(SystemExit) as e:
        cli.main(["report", "--results", str(res), "--models", str(models), "--out", str(out), "--strict"])
    assert e.value.code == 1


# --------------------------------------------------------------------------- committed results


def committed_tables():
    res = REPO / "reproduce" / "results"
    return sorted(p.stem for p in res.glob("*.csv") if not p.stem.endswith(("_long", "_loss")))


@pytest.fixture(scope="module")
def real_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("real") / "site"
    res = build.build_site(REPO / "reproduce" / "results", REPO / "saved_models", out)
    return out, res


def test_committed_results_render_without_problems(real_site):
    out, res = real_site
    assert res.problems == []
    index = read(out / "index.html")
    assert committed_tables(), "no committed results"
    for stem in committed_tables():
        assert f"#{stem}\"" in index, stem
    assert (REPO / "saved_models" / "manifest.json").exists()
    cards = read(out / "models.html")
    for name in json.loads(read(REPO / "saved_models" / "manifest.json")):
        assert f'id="model-{name}"' in cards
    assert_links_resolve(out)


def test_committed_site_links_resolve():
    site = REPO / "reproduce" / "results" / "site"
    if not (site / "index.html").exists():
        pytest.skip("no committed site (python -m keras_restore.report writes it)")
    assert_links_resolve(site)


# -------------------------------------------------------------------------------- link check


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key) is not None:
                self.refs.append(a[key])


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(read(path))
    return p


def assert_links_resolve(site: Path) -> None:
    """Every relative href/src of every page names an existing file (and an existing id)."""
    pages = {p: _parse(p) for p in site.glob("*.html")}
    assert pages
    bad = []
    for page, links in pages.items():
        for ref in links.refs:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc:
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
            if not target.exists():
                bad.append(f"{page.name}: {ref} (no file {target})")
            elif parts.fragment:
                ids = pages[target].ids if target in pages else _parse(target).ids
                if parts.fragment not in ids:
                    bad.append(f"{page.name}: {ref} (no id {parts.fragment!r})")
    assert not bad, "broken links:\n" + "\n".join(bad)


# ----------------------------------------------------------------------------- real browser


def _chromium():
    for name in filter(None, (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome",
                              "google-chrome-stable")):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def chromium():
    path = _chromium()
    if path is None:
        pytest.skip("no chromium binary found (Debian: apt-get install -y chromium; or set CHROMIUM=/path/to/chrome)")
    return path


def browser_dom(chromium, page: Path, profile: Path, hash_: str = "#selftest") -> str:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--disable-extensions", f"--user-data-dir={profile}", "--virtual-time-budget=15000",
           "--dump-dom", page.resolve().as_uri() + hash_]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and "<body" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def selftest(chromium, page: Path, profile: Path) -> tuple[dict, str]:
    dom = browser_dom(chromium, page, profile)
    m = re.search(r'<script type="application/json" id="selftest-result">(.*?)</script>', dom, re.S)
    assert m, f"{page.name}: the self-test wrote no result (did site.js run?)"
    report = json.loads(m.group(1))
    assert 'data-selftest="pass"' in dom, f"{page.name}: {report['errors']}"
    assert report["images"]["broken"] == [] and report["images"]["ok"] == report["images"]["total"]
    assert 'data-img="broken"' not in dom
    for key, result in report["sort"].items():
        assert result["ascending"] and result["descending"], (page.name, key, result)
    return report, dom


def test_browser_fixture_site(chromium, fixture_dirs, tmp_path):
    res, models, out = fixture_dirs
    render(res, models, out)
    report, dom = selftest(chromium, out / "paper-000.html", tmp_path / "profile")
    assert report["tables"]["table1_demo"] == 3 and report["tables"]["retrain-table1_demo"] == 3
    assert report["tables"]["table1_demo--adaptive"] == 3
    assert report["images"]["total"] == 1 and dom.count('data-img="ok"') == 1
    # sorted by the first numeric column (clean_accuracy: 99.10, 97.00, 98.00), as numbers
    demo = report["sort"]["table1_demo"]
    assert demo["column"] == "clean_accuracy"
    assert demo["labels_asc"] == ["M2", "M3", "M1"] and demo["values_asc"] == ["97.0", "98.0", "99.1"]

    report, _ = selftest(chromium, out / "index.html", tmp_path / "profile")
    board = report["sort"]["adaptive_robustness"]
    assert report["tables"]["adaptive_robustness"] == 3 and board["column"] == "clean_accuracy"
    assert board["labels_asc"] == ["bitdepth", "restorer", "<b>crunet</b>"]  # text, not markup
    for name in ("paper-001.html", "other.html", "models.html"):
        selftest(chromium, out / name, tmp_path / "profile")


def test_browser_committed_results(chromium, real_site, tmp_path):
    out, _ = real_site
    rows = {}
    for key in committed_tables():
        with open(REPO / "reproduce" / "results" / f"{key}.csv", encoding="utf-8") as f:
            rows[key] = sum(1 for line in f if line.strip()) - 1
    seen = {}
    for page in sorted(out.glob("*.html")):
        report, _ = selftest(chromium, page, tmp_path / "profile")
        seen.update(report["tables"])
    for key, n in rows.items():
        assert seen.get(key) == n, (key, seen.get(key), n)


def test_browser_detects_a_missing_figure(chromium, fixture_dirs, tmp_path):
    res, models, out = fixture_dirs
    render(res, models, out)
    (res / "table1_demo_bars.png").unlink()
    dom = browser_dom(chromium, out / "paper-000.html", tmp_path / "profile")
    assert 'data-img="broken"' in dom and 'data-selftest="fail"' in dom
    report = json.loads(re.search(r'id="selftest-result">(.*?)</script>', dom, re.S).group(1))
    assert report["images"]["broken"] == ["../results/table1_demo_bars.png"]


# ------------------------------------------------------------------------------- --markdown


def test_markdown_merges_paper_columns_and_sets_adaptive_beside_oblivious(tmp_path):
    table = build.read_csv(write(tmp_path / "long.csv", DEMO_LONG))
    text = build.markdown_table(table)
    lines = text.splitlines()
    assert lines[0] == ("| table | target | attack | restored_accuracy | adaptive_restored_accuracy | "
                        "adaptive_restored_accuracy − restored_accuracy | success_rate |")
    assert lines[1] == "|" + "---|" * 7
    assert lines[2] == "| demo | M1 | FGSM | 98.50 | 40.00 | -58.50 | 98.50 / 99.00 (-0.50) |"
    assert lines[3].endswith("| 97.00 / - |")   # the paper gives no value: no difference either
    assert len(lines) == 5


def test_markdown_columns_select_and_order(tmp_path):
    table = build.read_csv(write(tmp_path / "t.csv", DEMO_CSV))
    text = build.markdown_table(table, columns=["PGD", "target"])
    assert text.splitlines()[2] == "| 97.00 / - | M1 |"
    assert text.splitlines()[3] == "| 95.00 / 99.00 (-4.00) | M2 |"
    with pytest.raises(ValueError, match=r"`columns` \['SPA'\] not in t.csv; its columns are \['target'"):
        build.markdown_table(table, columns=["SPA"])
    with pytest.raises(ValueError, match="at least one column"):
        build.markdown_table(table, columns=[])
    with pytest.raises(ValueError, match=r"`columns` names \['target'\] more than once"):
        build.markdown_table(table, columns=["target", "PGD", "target"])


def test_markdown_difference_column_can_be_named_in_ascii_and_empty_values_read_as_dash(tmp_path):
    table = build.read_csv(write(tmp_path / "long.csv", DEMO_LONG))
    label = "adaptive_restored_accuracy - restored_accuracy"   # the site's label has U+2212
    assert build.markdown_table(table, columns=["target", label]).splitlines()[2] == "| M1 | -58.50 |"
    t2 = build.read_csv(write(tmp_path / "e.csv", "target,FGSM,FGSM_paper\nM1,,99.0\n"))
    assert build.markdown_table(t2).splitlines()[2] == "| M1 | - / 99.0 |"


def test_markdown_escapes_pipes(tmp_path):
    table = build.read_csv(write(tmp_path / "p.csv", 'target,note\nA,"x | y"\n'))
    assert build.markdown_table(table).splitlines()[2] == "| A | x \\| y |"


def test_report_markdown_cli(tmp_path, capsys):
    csv_path = write(tmp_path / "t.csv", DEMO_CSV)
    assert main(["--markdown", str(csv_path), "--columns", "target,FGSM"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [f"<!-- {csv_path} -->", "| target | FGSM |", "|---|---|",
                                "| M1 | 98.50 / 99.00 (-0.50) |", "| M2 | 90.00 / 99.00 (-9.00) |",
                                "| M3 | 50.00 / 99.00 (-49.00) |"]
    assert not (tmp_path / "site").exists()   # --markdown writes no site
    assert main(["--markdown", str(tmp_path / "missing.csv")]) == 1
    assert "missing.csv: file not found" in capsys.readouterr().err
    assert main(["--markdown", str(csv_path), "--columns", " target , FGSM,"]) == 0   # spaces, a trailing comma
    assert capsys.readouterr().out.splitlines()[1] == "| target | FGSM |"
    assert main(["--markdown", str(csv_path), "--columns", "target,nope"]) == 1
    assert "`columns` ['nope'] not in t.csv" in capsys.readouterr().err
    assert main(["--results", str(tmp_path), "--columns", "target"]) == 2
    assert "--columns needs --markdown" in capsys.readouterr().err


def test_parse_number_lenient_for_the_site_strict_for_run_records():
    from keras_restore.site.build import parse_number

    assert [parse_number(v) for v in ("1.5", " 2 ", 3, "", None, "nan", "inf", "x", True)] == \
        [1.5, 2.0, 3.0, None, None, None, None, None, None]
    assert parse_number("", strict=True) is None and parse_number("0.05", strict=True) == 0.05
    for bad in ("x", "nan", float("inf"), True):
        with pytest.raises(ValueError, match="expected a finite number or an empty cell, got"):
            parse_number(bad, strict=True)
    import importlib.util

    spec = importlib.util.spec_from_file_location("cifar10_targets_script", REPO / "reproduce" / "cifar10_targets.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script._number("40") == 40 and isinstance(script._number("40.0"), int) and script._number("0.05") == 0.05
    assert script._number("") is None
    with pytest.raises(ValueError, match="got 'forty'"):
        script._number("forty")
