"""Errors that end a check with exit status 2 (bad input), each naming what is wrong and where."""

from __future__ import annotations


class CheckInputError(Exception):
    """The project, a stack file, a stack name or the policy config cannot be used."""


class ProgramFailedError(CheckInputError):
    """The Pulumi program raised while it was planned for a stack."""

    def __init__(self, stack: str, error: BaseException, traceback_text: str) -> None:
        self.stack = stack
        self.error_type = type(error).__name__
        self.error_text = str(error).strip() or "(no message)"
        self.traceback_text = traceback_text
        super().__init__(f"stack '{stack}': the program raised {self.error_type}: {self.error_text}")
