"""Fixtures for every test directory: real PostgreSQL and NATS, see the plugin."""

pytest_plugins = ["assignment_engine.devstack.pytest_plugin"]
