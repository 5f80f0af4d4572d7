"""The attack suite runs against the same real servers as tests/web (the fixtures are shared, not copied)."""

from web.conftest import (  # noqa: F401 - fixtures
    build_dir,
    endpoint,
    nquads,
    store_endpoint,
    update_endpoint,
)
