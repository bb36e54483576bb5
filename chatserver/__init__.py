"""Live-chat customer-support server with a triage bot."""
from .app import create_app
from .config import Config, load_config

__all__ = ["create_app", "Config", "load_config"]
