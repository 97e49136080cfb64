"""Lessons as notebooks: every lesson file splits into its cells (`python -m tfcourse notebook`),
and three of them run, cell by cell, in a real Jupyter kernel (nbclient + ipykernel)."""
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from lesson_runner import PROJECT_ROOT
from tfcourse.__main__ import main as command
from tfcourse.tools.lessons import lessons
from tfcourse.tools.notebook import make_notebook

SCRIPTS = [script for _, script, _, _ in lessons()]
MARKER = re.compile(r"^# %%(.*)$")


def percent_cells(text):
    """(kind, source) of each cell as the percent format defines them: a `# %%` line starts a
    code cell, `# %% [markdown]` a text cell whose lines are `# ` comments."""
    cells, kind, lines = [], "code", []
    for line in text.splitlines() + ["# %%"]:
        marker = MARKER.match(line)
        if marker is None:
            lines.append(re.sub(r"^# ?", "", line) if kind == "markdown" else line)
            continue
        if "\n".join(lines).strip():
            cells.append((kind, "\n".join(lines).strip()))
        kind, lines = ("markdown" if "[markdown]" in marker[1] else "code"), []
    return cells


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_lesson_becomes_a_notebook_cell_for_cell(script):
    text = (PROJECT_ROOT / script).read_text(encoding="utf-8")
    notebook = nbformat.reads(nbformat.writes(make_notebook(script)), as_version=4)
    nbformat.validate(notebook)
    setup, *cells = notebook.cells
    assert setup.cell_type == "markdown" and "pip install -r requirements.txt" in setup.source
    assert script in setup.source
    made = [(c.cell_type, c.source.removeprefix("__doc__ = ").strip()) for c in cells]
    assert made == percent_cells(text)
    for index, cell in enumerate(cells):  # each code cell runs on its own, as a notebook runs it
        if cell.cell_type == "code":
            compile(cell.source, f"{script} cell {index}", "exec")
    assert cells[0].source.startswith('__doc__ = """Lesson '), "the docstring comes first"


def test_every_lesson_is_written_in_cells():
    """Issue 20: flat lessons in percent-format cells, text cells between the code."""
    text = {s: (PROJECT_ROOT / s).read_text(encoding="utf-8") for s in SCRIPTS}
    assert [s for s in SCRIPTS if not re.search(r"^# %%\s*$", text[s], re.M)] == []


def test_the_notebook_command_writes_every_lesson_and_refuses_bad_input(tmp_path, capsys):
    done = subprocess.run([sys.executable, "-m", "tfcourse", "notebook", "--all", "--out",
                           str(tmp_path / "nb")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = sorted(p.stem for p in (tmp_path / "nb").glob("*.ipynb"))
    assert written == sorted(s.rsplit("/", 1)[1][:-3] for s in SCRIPTS)
    assert not [p for p in (tmp_path / "nb").iterdir() if p.suffix != ".ipynb"]  # no temp files
    assert command(["notebook", "6-1", "--out", str(tmp_path / "one")]) == 0
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["6_1_cnn_mnist.ipynb"]

    (tmp_path / "file").write_text("not a folder")
    for argv, code, phrase in [(["9-9"], 1, "No lesson '9-9'"),
                               (["3-2", "--out", tmp_path / "file"], 2, "is a file, not a folder"),
                               (["3-2", "--out", tmp_path / "file" / "nb"], 1, "Cannot write"),
                               ([], 2, "name a lesson")]:
        try:
            assert command(["notebook", *map(str, argv)]) == code
        except SystemExit as error:  # argparse's errors
            assert error.code == code
        err = capsys.readouterr().err
        assert phrase in err and "Traceback" not in err, (argv, err)
    assert "notebooks/" in (PROJECT_ROOT / ".gitignore").read_text().splitlines()  # not committed


# ## Three lessons in one real kernel. Between lessons `%reset -f` empties the namespace, so
# each notebook must define everything it uses; only imported modules stay (TensorFlow's start
# is paid once). The flags are set as a learner would: in the cell that calls tfcourse.parse.
RUNS = {  # lesson -> (flags, a progress line the lesson prints)
    "week02_basics/2_4_simple_example.py": ("--quick", r"^40 \[0\.\d+, 0\.\d+\]$"),
    "week03_regression/3_2_mnist_simple.py": ("--quick --data synthetic",
                                              r"^Iter 1,Testing Accuracy (0\.\d+)$"),
    "week07_lstm/7_2_lstm_mnist.py": ("--quick --data synthetic --epochs 1",
                                      r"^Iter 0, Testing Accuracy= 0\.\d+$"),
}
BAD = ("week03_regression/3_2_mnist_simple.py", "--quick --data-dir {tmp}/no-such-folder")
HELPERS = "week09_gpu_transfer/9_1_retrain.py"  # imports week 9's _images and week 8's _inception
STOPPED = "week02_basics/2_4_simple_example.py"


def with_flags(notebook, flags, tag):
    cells = [v4.new_code_cell("%reset -f", metadata={"lesson": tag})]
    for cell in notebook.cells:
        cell.source = cell.source.replace("tfcourse.parse(parser)",
                                          f"tfcourse.parse(parser, {flags!r})")
        cell.metadata["lesson"] = tag
        cells.append(cell)
    return cells


@pytest.fixture(scope="module")
def kernel_outputs(tmp_path_factory):
    """Execute the three lessons (week 2, 3-2, the LSTM 7-2) and the bad one in one kernel (IPC
    transport: no TCP warning); return {lesson: (stdout, stderr, error outputs, images shown)}."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    tmp = tmp_path_factory.mktemp("kernel")
    notebook = v4.new_notebook()
    for script, (flags, _) in RUNS.items():
        notebook.cells += with_flags(make_notebook(script), f"{flags} --out {tmp / script}", script)
    bad = make_notebook(BAD[0])
    data_cell = next(i for i, c in enumerate(bad.cells) if "load_mnist(" in c.source)
    bad.cells = bad.cells[:data_cell + 1]  # the cell that raises; nothing after it can run
    notebook.cells += with_flags(bad, BAD[1].format(tmp=tmp), "bad")
    # its week's helper and week 8's, in a kernel started elsewhere, the cells pasted one by one
    # from the .py (not through the notebook command)
    pasted = [v4.new_code_cell(source, metadata={"lesson": "helpers"}) for kind, source in
              percent_cells((PROJECT_ROOT / HELPERS).read_text(encoding="utf-8")) if kind == "code"]
    imports = next(i for i, c in enumerate(pasted) if "import _inception" in c.source)
    notebook.cells += pasted[:imports + 1] + [v4.new_code_cell(
        'print(sys.modules["_images"].__file__, sys.modules["_inception"].__file__)',
        metadata={"lesson": "helpers"})]
    stopped = make_notebook(STOPPED)  # the kernel's stop button after training, before the end
    trained = next(i for i, c in enumerate(stopped.cells) if "run.log(" in c.source)
    stopped.cells = stopped.cells[:trained + 1] + [
        v4.new_code_cell("raise KeyboardInterrupt"),
        v4.new_code_cell("import sys\nprint('stdout is', type(sys.stdout).__name__)")]
    notebook.cells += with_flags(stopped, f"--quick --out {tmp / 'stopped'}", "stopped")
    flags = [v4.new_code_cell(source, metadata={"lesson": "flags"}) for source in (
        "parser = tfcourse.parser('Lesson 0-0 测试 — a test.', epochs=3)",
        'args = tfcourse.parse(parser, "--epochs -1")', 'args = tfcourse.parse(parser, "--help")',
        'args = tfcourse.parse(parser, "--epochs 2")\nprint("epochs", args.epochs)')]
    notebook.cells += flags
    manager = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp / "ipc"))
    client = NotebookClient(notebook, km=manager, timeout=300, allow_errors=True)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        client.execute(cwd=str(tmp), env={**os.environ, "KERAS_HOME": str(tmp / "keras")})
    finally:
        manager.shutdown_kernel(now=True)
        for number, handler in handlers.items():  # jupyter_client resets SIGTERM in this process
            signal.signal(number, handler)
    found = {}
    for cell in notebook.cells:
        out, err, errors, images = found.setdefault(cell.metadata.get("lesson"), ([], [], [], []))
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                (out if output.name == "stdout" else err).append(output.text)
            elif output.output_type == "error":
                errors.append(f"{output.ename}: {output.evalue}")
            elif "image/png" in output.get("data", {}):
                images.append(output)
    outputs = {lesson: ("".join(out), "".join(err), errors, images)
               for lesson, (out, err, errors, images) in found.items()}
    return outputs, tmp


@pytest.mark.timeout(300)
@pytest.mark.parametrize("script", RUNS)
def test_a_lesson_runs_in_a_jupyter_kernel_and_prints_its_progress(script, kernel_outputs):
    outputs, tmp = kernel_outputs
    out, err, errors, images = outputs[script]
    assert errors == [], err
    # a plot the lesson saves is also shown under its cell (2-4: the fitted line)
    assert len(images) == out.count("saved plot: ") == (1 if "2_4" in script else 0)
    progress = re.search(RUNS[script][1], out, re.M)
    assert progress, out
    if progress.groups():  # 3-2 learns in its two short epochs: chance is 0.1
        assert float(progress[1]) > 0.3, out
    assert "完成 Done: lesson" in out and "[IPKernelApp]" not in out + err
    assert "WARNING" not in err, err  # TensorFlow's log lines show in the notebook, in red
    record = json.loads((tmp / script / "metrics.json").read_text(encoding="utf-8"))
    # the flags set in the notebook, not the kernel's own arguments (-f kernel-1.json)
    assert record["command"] == [*RUNS[script][0].split(), "--out", str(tmp / script)]
    assert record["status"] == "finished"


@pytest.mark.timeout(300)
def test_a_course_error_in_a_notebook_cell_is_one_message_without_traceback(kernel_outputs):
    out, err, errors, _ = kernel_outputs[0]["bad"]
    assert err.count("错误 Error:") == 1 and "no such folder" in err
    assert "Traceback" not in out + err
    assert errors == []  # shown as the message alone, not as a failed cell's traceback


@pytest.mark.timeout(300)
def test_week_helpers_import_in_a_kernel_started_elsewhere(kernel_outputs):
    """Cells pasted into Jupyter, Colab, a notebooks/ folder, PyCharm: the kernel's working folder
    is not the lesson's week folder; the lesson puts it on sys.path itself."""
    out, err, errors, _ = kernel_outputs[0]["helpers"]
    assert errors == [], err
    images, inception = out.split()[-2:]
    assert Path(images) == PROJECT_ROOT / "week09_gpu_transfer" / "_images.py"
    assert Path(inception) == PROJECT_ROOT / "week08_save_inception" / "_inception.py"


@pytest.mark.timeout(300)
def test_the_kernels_stop_button_ends_the_run_as_ctrl_c_does(kernel_outputs):
    """A KeyboardInterrupt in a cell: one line, the record says "interrupted", and what later
    cells print no longer goes into that run's log.txt."""
    (out, err, errors, _), tmp = kernel_outputs[0]["stopped"], kernel_outputs[1]
    assert err.count("已中断 Interrupted.") == 1 and "Traceback" not in err and errors == []
    assert "stdout is OutStream" in out  # the kernel's own stream again, not the run's copy
    record = json.loads((tmp / "stopped" / "metrics.json").read_text(encoding="utf-8"))
    assert record["status"] == "interrupted"
    assert "stdout is" not in (tmp / "stopped" / "log.txt").read_text(encoding="utf-8")


@pytest.mark.timeout(300)
def test_flags_a_notebook_gets_wrong_or_asks_help_for_are_one_message(kernel_outputs):
    """argparse's SystemExit in a kernel is IPython's traceback (for a bad flag it even ended in
    IPython's own AttributeError); in a notebook it is one message with the remedy instead."""
    out, err, errors, _ = kernel_outputs[0]["flags"]
    assert errors == [] and "Traceback" not in err and "SystemExit" not in out + err
    assert "错误 Error: argument --epochs: expected a whole number above 0, got '-1'." in err
    assert "--help lists the flags above; the lesson stops here." in err
    assert "--memory-growth" in out  # the help itself
    assert "epochs 2" in out  # and the next cell parses as usual
