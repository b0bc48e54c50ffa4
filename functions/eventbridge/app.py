"""EventBridge intake entry point (template.yaml: CodeUri functions/eventbridge/, Handler app.lambda_handler).

The handler itself is tiktok_relay/handlers/eventbridge.py, in the relay's layer, so that
`tiktok-relay replay` runs this very code from an installed package too.
"""

from tiktok_relay.handlers.eventbridge import lambda_handler

__all__ = ["lambda_handler"]
