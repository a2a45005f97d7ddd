"""`make run`'s build step: run the Dagster job, and on a refusal end with its reason.

The job's own console output streams through unchanged. The same job runs on
both targets: with DBT_TARGET=spark its dbt steps build on Spark and the CLV
Python models run on Spark as a step of their own (orchestration.assets.clv_spark;
README, "Past one machine"). When the run fails
because the input or the configuration was refused, the landing step has
written the refusal (which file or setting, what is wrong, what to do) beside
the working database; it is printed last, after Dagster's stack trace, and the
exit status is non-zero. Any other failure keeps Dagster's output as it is and
says so in one line.

    python -m orchestration.run
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration import settings
from orchestration.landing import refusal_path


def build_command() -> list[str]:
    """The command that builds everything (the one place to change it)."""
    bin_dir = Path(sys.executable).parent
    return [
        str(bin_dir / "dg"), "launch",
        "--job", "build_everything",
        "-c", str(settings.PROJECT_DIR / "orchestration" / "run_config.yaml"),
    ]  # fmt: skip


def main(command: list[str] | None = None) -> int:
    refusal = refusal_path(settings.duckdb_path())
    refusal.unlink(missing_ok=True)
    sys.stdout.flush()
    completed = subprocess.run(command or build_command(), env=os.environ.copy())
    if completed.returncode == 0:
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    if refusal.exists():
        message = refusal.read_text(encoding="utf-8").strip()
        print("\nThe build was refused; nothing was rebuilt:", file=sys.stderr)
        print(message, file=sys.stderr)
    else:
        print(
            f"\nThe build failed (exit status {completed.returncode}); the reason is in the output above.",
            file=sys.stderr,
        )
    return completed.returncode or 1


if __name__ == "__main__":
    raise SystemExit(main())
