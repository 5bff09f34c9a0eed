"""`python -m assignment_engine.availability`: serve the availability service until SIGTERM."""

from __future__ import annotations

from assignment_engine.availability import app
from assignment_engine.availability.config import AvailabilitySettings
from assignment_engine.core.runtime import run_service


def main() -> None:
    run_service(app.SERVICE_NAME, lambda: app.start(AvailabilitySettings.from_env()))


if __name__ == "__main__":
    main()
