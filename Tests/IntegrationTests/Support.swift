// Integration tests follow.
