"""Attune's one exception type. Library code raises it (or a subclass) with a message that names the file, cell or
field and what to do; the command line turns it into that message and an exit code, in one place."""


class AttuneError(Exception):
    """Something a person must fix: the message says what and where."""
