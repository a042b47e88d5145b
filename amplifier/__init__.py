"""amplifier: publishes a campaign's rotating posts to X, Mastodon and Bluesky, exactly once."""

__version__ = "0.1.0"
