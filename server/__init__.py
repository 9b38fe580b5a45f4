"""consentpixel: a self-hosted, privacy-first conversion pixel with a consent manager."""

__version__ = "0.1.0"
