"""`uv run python -m app.exports` writes docs/export-schema.json."""

from app.exports.document import write_schema

write_schema()
