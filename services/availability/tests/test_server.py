"""The server's health check and reflection."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

SERVICE = "assignment.v1.AvailabilityService"


async def test_health__reports_serving(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)

    overall = await health.Check(health_pb2.HealthCheckRequest(service=""))
    service = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE))

    assert overall.status == health_pb2.HealthCheckResponse.SERVING
    assert service.status == health_pb2.HealthCheckResponse.SERVING


async def test_reflection__lists_the_service(channel: grpc.aio.Channel) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")

    names: list[str] = []
    async for response in reflection.ServerReflectionInfo(iter([request])):
        names.extend(s.name for s in response.list_services_response.service)

    assert SERVICE in names
