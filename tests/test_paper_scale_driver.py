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
    named |= {m for loop in re.findall(r"for t in ([^;]+);", text) for m in loop.replace("\\", " ").split()}
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
