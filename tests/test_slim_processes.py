"""What each long-running process imports (memory is paid per process: bench/memory.py measures it).

The supervisor only starts and watches children: it must not import the application. A worker answers no
requests: it must not import Flask. Checked in fresh interpreters, since the test process imports everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("flask", "werkzeug", "sqlalchemy", "redis", "rq", "marshmallow", "yaml", "click", "requests", "cryptography")


def imported_after(code: str, cwd: Path) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=cwd, timeout=60)
    return set(out.stdout.split())


def test_the_supervisor_imports_none_of_the_application(tmp_path: Path) -> None:
    found = imported_after("import bridge.supervise", tmp_path)
    assert not found & set(HEAVY), sorted(found & set(HEAVY))


def test_a_worker_builds_its_runtime_without_flask_or_the_shop_client(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(f"data_dir: {tmp_path / 'data'}\n")
    code = (
        "from bridge import features\n"
        "from bridge.config import load_settings\n"
        "from bridge.runtime import Runtime\n"
        "import bridge.jobs.worker, bridge.bootstrap\n"
        "features.load()\n"
        f"Runtime.build(load_settings({str(tmp_path / 'config.yaml')!r}, environ={{}}))\n"
    )
    found = imported_after(code, tmp_path)
    assert {"sqlalchemy", "rq"} <= found  # it did build the runtime
    # (redis-py imports the top of the cryptography package when it is installed; its ciphers stay unloaded)
    assert not found & {"flask", "werkzeug", "jinja2", "requests", "oauthlib", "alembic", "mako", "pygments"}


SHARED = ("sqlalchemy", "redis", "rq", "flask", "werkzeug", "jinja2", "marshmallow", "gunicorn", "click", "yaml")
"""Imported by every child of `bridge run`: preloaded by the supervisor, so their pages are shared, not copied."""


def test_the_supervisor_preloads_what_its_children_import_and_builds_nothing(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(f"data_dir: {tmp_path / 'data'}\n")
    code = (
        "import gc, os, sys, threading\n"
        "from bridge import supervise\n"
        "supervise.preload()\n"
        # safe to fork: no thread, nothing of the application built or opened (no data folder: no database, no
        # lock, no Redis socket), and a live collector for the supervisor's own garbage
        f"assert threading.active_count() == 1 and gc.isenabled() and not os.path.exists({str(tmp_path / 'data')!r})\n"
        "preloaded = set(sys.modules)\n"
        "import bridge.cli, bridge.bootstrap, bridge.jobs.worker\n"  # `bridge worker`, forked
        "from bridge import create_app, features\n"
        "from bridge.config import load_settings\n"
        "from bridge.runtime import Runtime\n"
        f"settings = load_settings({str(tmp_path / 'config.yaml')!r}, environ={{}})\n"
        "features.load()\n"
        "Runtime.build(settings)\n"  # what the worker builds after the fork
        "create_app(settings)\n"  # what gunicorn's master builds after the fork
        "assert 'sqlalchemy.orm' not in sys.modules\n"  # SQLAlchemy Core only: the ORM would cost every process
        "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - preloaded})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path, timeout=60
    )
    imported_later = set(out.stdout.split())
    assert "bridge" in imported_later  # the probe did build the runtime and the app
    assert not imported_later & set(SHARED), sorted(imported_later & set(SHARED))
