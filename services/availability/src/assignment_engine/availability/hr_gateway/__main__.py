"""`ae-hr-gateway`: serve the HR webhook gateway until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

import uvloop

from assignment_engine.availability.hr_gateway.config import HrGatewaySettings
from assignment_engine.availability.hr_gateway.server import (
    EVENTS_PATH,
    SERVICE_NAME,
    open_availability_channel,
    start_gateway,
)
from assignment_engine.core import logs, telemetry
from assignment_engine.core.config import ConfigError

logger = logging.getLogger(__name__)


async def serve(settings: HrGatewaySettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    channel = open_availability_channel(settings)
    try:
        runner = await start_gateway(settings, channel)
        logger.info(
            "%s serving %s over %s on %s:%d, calling availability at %s",
            SERVICE_NAME,
            EVENTS_PATH,
            "HTTPS"
            if settings.common.tls and settings.common.tls.certificate_file
            else "HTTP",
            settings.common.bind_host,
            settings.port,
            settings.availability_address,
            extra=logs.fields(event="service_started", port=settings.port),
        )
        await stop.wait()
        logger.info(
            "%s shutting down",
            SERVICE_NAME,
            extra=logs.fields(event="service_stopping"),
        )
        await runner.cleanup()
    finally:
        await channel.close()
    logger.info("%s stopped", SERVICE_NAME, extra=logs.fields(event="service_stopped"))


def main() -> None:
    try:
        settings = HrGatewaySettings.from_env()
        if settings.common.tls is not None:
            # Loads the certificate and key now, so a bad file stops start-up here.
            settings.common.tls.server_ssl_context()
        logs.setup(SERVICE_NAME, settings.common.log_level)
        telemetry.setup_tracing(SERVICE_NAME)
    except ConfigError as exc:
        raise SystemExit(f"{SERVICE_NAME}: {exc}") from None
    try:
        uvloop.run(serve(settings))
    finally:
        telemetry.shutdown_tracing()


if __name__ == "__main__":
    main()
