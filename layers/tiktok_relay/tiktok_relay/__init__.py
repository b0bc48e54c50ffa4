"""tiktok-relay: store webhooks to TikTok Events API 2.0 conversion events."""

__version__ = "0.1.0"
