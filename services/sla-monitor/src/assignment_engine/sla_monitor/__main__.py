"""`python -m assignment_engine.sla_monitor`: serve the SLA monitor until SIGTERM."""

from __future__ import annotations

from assignment_engine.core.runtime import run_service
from assignment_engine.sla_monitor import app
from assignment_engine.sla_monitor.config import SlaMonitorSettings


def main() -> None:
    run_service(app.SERVICE_NAME, lambda: app.start(SlaMonitorSettings.from_env()))


if __name__ == "__main__":
    main()
