"""Argument types and the parser of the ``servicepipe`` command line: every bad value is
refused with one line that says what was wrong and what to do, and exit status 2."""

from __future__ import annotations

import argparse
from datetime import date
from typing import NoReturn

from entrypoints.settings import LOG_LEVELS

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


class UsageError(Exception):
    """A mistake in how a command was called (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr, then exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}; see {self.prog} --help\n")


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every option's default, where it has one (a flag's False or an unset None are
    not defaults worth showing; their help says what happens instead)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def seconds(text: str) -> int:
    """A whole number of seconds, 1 or more."""
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError("give at least 1 second")
    return value


def count(text: str) -> int:
    """A whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give 0 or more")
    return value


def fraction(text: str) -> float:
    """A share from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 0 and 1 (0.05 is 5%)")
    return value


def iso_date(text: str) -> str:
    """A real calendar date written YYYY-MM-DD."""
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD, for example 2026-11-25") from None


def port(text: str) -> int:
    value = count(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (1 to 65535)")
    return value


def level(text: str) -> str:
    if text.strip().upper() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a log level: use one of {', '.join(LOG_LEVELS)}")
    return text.strip().upper()
