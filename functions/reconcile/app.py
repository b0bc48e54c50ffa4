"""Reconcile Lambda entry point (template.yaml: CodeUri functions/reconcile/, Handler app.lambda_handler).

The handler itself is tiktok_relay/handlers/reconcile.py, in the relay's layer, like the
receiver's and the sender's.
"""

from tiktok_relay.handlers.reconcile import lambda_handler

__all__ = ["lambda_handler"]
