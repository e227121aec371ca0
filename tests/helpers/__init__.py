"""Real listening sockets and server processes for the tests."""
