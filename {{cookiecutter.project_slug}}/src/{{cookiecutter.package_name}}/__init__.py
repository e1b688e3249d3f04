"""{{ cookiecutter.description | wordwrap(92, break_long_words=False, wrapstring="\n") }}."""

__version__ = "0.1.0"
