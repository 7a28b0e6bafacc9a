"""The ``pishkhan`` command."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from pishkhan import __version__

# Subcommand groups: each module exports register(subparsers).
COMMAND_MODULES: tuple[str, ...] = (
    "pishkhan.commands.server",
    "pishkhan.commands.customers",
    "pishkhan.commands.sandbox",
    "pishkhan.commands.world",
    "pishkhan.commands.jibit",
    "pishkhan.commands.paystar",
    "pishkhan.commands.pendar",
    "pishkhan.commands.payman",
)
SERVER_EXTRAS_HINT = "the pishkhan server needs its extras: pip install 'pishkhan[server]'"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pishkhan",
        description="Pishkhan: local Jibit, Paystar, Pendar Koushk and Payman APIs.",
    )
    parser.add_argument("--version", action="version", version=f"pishkhan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # an optional command group not installed in this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except ModuleNotFoundError as exc:
        print(f"pishkhan: {SERVER_EXTRAS_HINT} (missing module {exc.name!r})", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    from pydantic import ValidationError

    from pishkhan.commands.context import CommandError
    from pishkhan.core.errors import NotFound, PishkhanError
    from pishkhan.settings import SettingsError

    try:
        result: int = args.handler(args)
        return result
    except (CommandError, SettingsError) as exc:
        print(f"pishkhan: {exc}", file=sys.stderr)
        return 2
    except NotFound as exc:
        print(f"pishkhan: {exc}", file=sys.stderr)
        return 2
    except PishkhanError as exc:
        details = getattr(exc, "errors", None)
        print(f"pishkhan: {exc}" + (f" {details}" if details else ""), file=sys.stderr)
        return 2
    except ValidationError as exc:  # a value the control plane's models refuse
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        print(f"pishkhan: invalid input: {problems}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``pishkhan ... | head``): stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # a database that cannot be reached, a bad URL, ...
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError | OSError):
            print(f"pishkhan: {type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
