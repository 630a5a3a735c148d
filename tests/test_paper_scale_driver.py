"""reproduce/cifar10_paper_scale.sh (issue 21's background driver): its steps name real scripts and flags, it
refuses an unknown step, and it keeps its cache outside the work tree unless told otherwise."""

import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DRIVER = REPO / "reproduce" / "cifar10_paper_scale.sh"


def test_every_step_names_an_existing_script():
    text = DRIVER.read_text()
    named = set(re.findall(r"reproduce/([a-z0-9_]+)\.py", text))
    # loop items are "<script>" or "<script>:<result stem>"
    named |= {m.split(":")[0] for loop in re.findall(r"for t in ([^;]+);", text) for m in loop.replace("\\", " ").split()}
    assert {"cifar10_targets", "table5_cifar10", "crunet_table3_cifar10_whitebox", "adaptive_robustness"} <= named
    missing = sorted(n for n in named if not (REPO / "reproduce" / f"{n}.py").exists())
    assert not missing, f"the driver names scripts that do not exist: {missing}"


def test_unknown_step_is_refused_and_the_cache_defaults_outside_the_work_tree(tmp_path):
    env = {**os.environ, "STEPS": "9", "HOME": str(tmp_path)}
    env.pop("KERAS_RESTORE_CACHE", None)
    r = subprocess.run(["bash", str(DRIVER)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "unknown step '9' in STEPS (expected 1-5)" in r.stderr
    assert (tmp_path / ".cache" / "keras_restore").is_dir()


def test_restorers_train_in_the_precision_chosen_for_this_machine():
    """Steps 2-4 pass $PRECISION (default "auto": float32 on a CPU whose bfloat16 is emulated, about half float32's
    speed there) to every restorer's --retrain, never a fixed mixed_bfloat16, and the default is a choice those
    scripts accept."""
    from keras_restore.pipeline.script import parser

    text = DRIVER.read_text()
    default = re.search(r'PRECISION="\$\{PRECISION:-([a-z0-9_]+)\}"', text)
    assert default and default.group(1) == "auto"
    # the table scripts' --precision accepts it
    assert parser("x").parse_args(["--precision", default.group(1)]).precision == "auto"
    retrain = [line for line in text.splitlines() if "--retrain" in line and "step python" in line
               and "cifar10_targets.py" not in line and "similarity" not in line]
    assert len(retrain) >= 6, retrain
    assert all('--precision "$PRECISION"' in line for line in retrain), retrain
    assert "--precision mixed_bfloat16" not in text


def test_a_failed_step_is_logged_with_its_exit_code(tmp_path):
    """step() logs FAILED with the exit code before the driver stops (set -e), so the log says which step ended it."""
    text = DRIVER.read_text()
    func = text[text.index("step() {"):text.index("\n}\n", text.index("step() {")) + 3]
    log = tmp_path / "log"
    script = f'set -euo pipefail\nLOG={log}\n{func}\nstep true\nstep bash -c "exit 3"\necho unreachable\n'
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3 and "unreachable" not in r.stdout
    lines = log.read_text().splitlines()
    assert "done in" in lines[1] and lines[1].endswith(": true")
    assert "FAILED (exit 3)" in lines[3] and lines[3].endswith('bash -c exit 3')


def test_every_rows_flag_names_rows_of_the_table_its_step_runs():
    """A partial run in the driver (--rows) names rows its table has: a typo would fail hours into a run."""
    from keras_restore.pipeline.tables import get_table, select_rows

    steps = re.findall(r"reproduce/([a-z0-9_]+)\.py[^\n]*--rows ([^\n]+)", DRIVER.read_text())
    assert len(steps) >= 3, steps
    for script, labels in steps:
        # a script that is not a table reads the rows of the table named here
        spec = get_table({"crunet_cifar10_eps_curves": "crunet_table3_cifar10_whitebox"}.get(script, script))
        part = select_rows(spec, labels.split())
        assert part.partial_of == spec.name and set(part.rows) == set(labels.split())



def run_step5(tmp_path, stale_output: str, *, force: bool = False, report_fails: bool = False):
    """Step 5's block of the driver with `python` faked: `-m keras_restore.report --stale` prints
    ``stale_output`` (or fails), every other call is recorded instead of run. Returns (commands run, log)."""
    text = DRIVER.read_text()
    func = text[text.index("step() {"):text.index("\n}\n", text.index("step() {")) + 3]
    start = text.index("        5)\n") + len("        5)\n")
    block = text[start:text.index("            ;;\n", start)]
    tmp_path.mkdir(parents=True, exist_ok=True)
    stale, ran, log = tmp_path / "stale.tsv", tmp_path / "ran", tmp_path / "log"
    stale.write_text(stale_output)
    report = "return 1" if report_fails else f"cat {stale}"
    fake = (f'python() {{ if [ "$1 $2 $3" = "-m keras_restore.report --stale" ]; then {report}; '
            f'else echo "$*" >> {ran}; fi; }}\n')
    force_line = "FORCE=1" if force else ""
    script = f"set -euo pipefail\nLOG={log}\nDATA=d\n{force_line}\n{func}\n{fake}{block}"
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return (ran.read_text().splitlines() if ran.exists() else []), log.read_text()


def test_step5_reruns_only_the_tables_that_are_not_current(tmp_path):
    """Every stem step 5 checks is a result the site knows (all current: nothing runs, each skip logged); a stale one
    and an unrecorded one run; FORCE=1 runs all; if report --stale fails, all run and the log says why."""
    from keras_restore.site.build import discover

    results = REPO / "reproduce" / "results"
    keys = [e.key for e in discover(results, results / "site")[0]]
    all_current = "".join(f"{k}\tcurrent\tm\t\n" for k in keys)
    ran, log = run_step5(tmp_path / "a", all_current)
    assert ran == [], f"step 5 names result stems that do not exist (so they would always rerun): {ran}"
    assert log.count("skipped, ") == 13 and "FORCE=1 reruns it" in log

    some = all_current.replace("crunet_table3_cifar10_whitebox\tcurrent", "crunet_table3_cifar10_whitebox\tstale")
    some = some.replace("adaptive_robustness\tcurrent", "adaptive_robustness\tunrecorded")
    ran, log = run_step5(tmp_path / "b", some)
    assert ran == ["reproduce/crunet_table3_cifar10_whitebox.py --data-dir d --quiet",
                   "reproduce/adaptive_robustness.py --datasets cifar10 --update --data-dir d --quiet"]
    assert log.count("done in") == 2 and log.count("skipped, ") == 11

    ran, _ = run_step5(tmp_path / "c", all_current, force=True)
    assert len(ran) == 13
    ran, log = run_step5(tmp_path / "d", "", report_fails=True)
    assert len(ran) == 13 and "report --stale failed" in log
