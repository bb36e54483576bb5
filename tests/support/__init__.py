"""Helpers shared by the tests: servers, clients, browsers, the documented protocol. Test modules import from
here (never from each other); conftest.py registers the fixtures."""
