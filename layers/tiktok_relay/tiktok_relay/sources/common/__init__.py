"""What every store's webhooks share: value coercion, the clear-text privacy rules, event times
and signature helpers. Nothing here knows a particular store."""
