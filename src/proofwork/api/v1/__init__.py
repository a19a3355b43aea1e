"""The REST API, version 1: `create_app(settings, workspace=None)` (see `app`)."""

from proofwork.api.v1.app import create_app

__all__ = ["create_app"]
