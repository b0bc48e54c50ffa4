"""Sender Lambda entry point (template.yaml: CodeUri functions/sender/, Handler app.lambda_handler).

The handler itself is tiktok_relay/handlers/sender.py, in the relay's layer, so that
`tiktok-relay replay` and `serve` run this very code from an installed package too.
"""

from tiktok_relay.handlers.sender import lambda_handler

__all__ = ["lambda_handler"]
