"""Every server answers gRPC health checks and lists its services by reflection."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from .conftest import Engine

SERVICES = {
    "assigner": "assignment.v1.AssignerService",
    "queue": "assignment.v1.QueueService",
}


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_health__reports_serving(engine: Engine, name: str) -> None:
    stub = health_pb2_grpc.HealthStub(engine.channel(name))

    overall = await stub.Check(health_pb2.HealthCheckRequest())
    service = await stub.Check(health_pb2.HealthCheckRequest(service=SERVICES[name]))

    assert overall.status == health_pb2.HealthCheckResponse.SERVING
    assert service.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_reflection__lists_the_service(engine: Engine, name: str) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(engine.channel(name))

    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = [
        service.name
        async for reply in responses
        for service in reply.list_services_response.service
    ]

    assert SERVICES[name] in names
    assert "grpc.health.v1.Health" in names


async def test_health__unknown_service_is_not_found(engine: Engine) -> None:
    stub = health_pb2_grpc.HealthStub(engine.channel("assigner"))

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Check(health_pb2.HealthCheckRequest(service="nope.Service"))

    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
