"""The I/O shell: transports that carry Request/Response values to and from the pure application."""
