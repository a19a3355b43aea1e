"""The web app (`create_web_app`): job board, job pages, posting, profiles, credential checks and
statements, server-rendered with Jinja2; a small script acts through the visitor's EIP-1193 wallet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from proofwork.settings import Settings
    from proofwork.web.app import WorkspaceFactory

__all__ = ["create_web_app"]


def create_web_app(workspace_factory: WorkspaceFactory, settings: Settings, **kwargs: Any) -> FastAPI:
    from proofwork.web.app import create_web_app as create

    return create(workspace_factory, settings, **kwargs)
