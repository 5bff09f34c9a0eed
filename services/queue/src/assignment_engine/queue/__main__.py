"""`python -m assignment_engine.queue`: serve the queue until SIGTERM."""

from __future__ import annotations

from assignment_engine.core.runtime import run_service
from assignment_engine.queue import app
from assignment_engine.queue.config import QueueSettings


def main() -> None:
    run_service(app.SERVICE_NAME, lambda: app.start(QueueSettings.from_env()))


if __name__ == "__main__":
    main()
