"""One module per CLI verb: each composes the library and returns a value; none prints or exits."""
