import pytest

# Plugin modules that test modules also import from: rewrite their asserts before that import.
pytest.register_assert_rewrite("tests.browser", "tests.screens")
