"""A service with an invalid setting stops at start-up with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SECRET = "0123456789abcdef0123456789abcdef-startup"


@pytest.mark.parametrize(
    ("service", "variables", "named"),
    [
        ("queue", {"AE_TRACE_STATEMENTS": "maybe"}, "AE_TRACE_STATEMENTS='maybe'"),
        ("assigner", {"OTEL_TRACES_EXPORTER": "bogus"}, "'bogus'"),
        (
            "sla_monitor",
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon",
            },
            "OTEL_EXPORTER_OTLP_PROTOCOL='carrier-pigeon'",
        ),
        ("availability", {"AE_LOG_LEVEL": "LOUD"}, "AE_LOG_LEVEL='LOUD'"),
        (
            "availability.hr_gateway",
            {
                "AE_HR_WEBHOOK_SECRETS": "whsec_c3RhcnR1cC10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5",
                "AE_TLS_CERT_FILE": __file__,
                "AE_TLS_KEY_FILE": __file__,
            },
            f"AE_TLS_CERT_FILE={__file__!r}",
        ),
    ],
)
def test_service__invalid_setting_stops_with_one_line(
    service: str, variables: dict[str, str], named: str
) -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AE_", "OTEL_"))
    }
    environment.update({"AE_JWT_SECRET": SECRET, **variables})

    finished = subprocess.run(
        [sys.executable, "-m", f"assignment_engine.{service}"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 1
    assert "Traceback" not in finished.stderr
    assert named in finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr
