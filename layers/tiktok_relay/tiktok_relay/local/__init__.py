"""What only runs outside Lambda: the harness behind `replay` and `serve` (the real handlers
with in-memory ports and the embedded fake TikTok), API Gateway event building and a fake
Lambda context. Production code (`tiktok`, `sources`, `pipeline`, `functions/`) never imports
this package; tests/unit/test_layering.py checks it."""
