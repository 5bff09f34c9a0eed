"""Generated from proto/assignment/v1; do not edit."""
