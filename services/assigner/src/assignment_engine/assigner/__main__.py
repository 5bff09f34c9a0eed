"""`python -m assignment_engine.assigner`: serve the assigner until SIGTERM."""

from __future__ import annotations

from assignment_engine.assigner import app
from assignment_engine.assigner.config import AssignerSettings
from assignment_engine.core.runtime import run_service


def main() -> None:
    run_service(app.SERVICE_NAME, lambda: app.start(AssignerSettings.from_env()))


if __name__ == "__main__":
    main()
