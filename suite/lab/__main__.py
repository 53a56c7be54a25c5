"""`python -m suite.lab serve`: run a lab until SIGTERM/SIGINT, then stop it cleanly.

User mistakes (a missing drivers file, an invalid driver file, a port in use) end
with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
import sys
from pathlib import Path

from .drivers import DriverProfileError
from .extras import lab_extras_problem

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m suite.lab",
                                     description="Run the embedded lab cluster.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the lab's API until SIGTERM/SIGINT")
    serve.add_argument("--drivers", type=Path, help="driver file, YAML (default: built-in)")
    serve.add_argument("--kubeconfig", type=Path,
                       help="where to write the kubeconfig (default: STATE_DIR/kubeconfig)")
    serve.add_argument("--state-dir", type=Path,
                       help="folder for the lab's state (default: a temporary folder)")
    serve.add_argument("--port", type=int, default=0, help="TCP port (default: any free)")
    serve.add_argument("--guests", choices=("process", "qemu"), default=None,
                       help="guest runtime, overriding the driver file's cluster.guests")
    return parser


def _user_error(exc: BaseException, args: argparse.Namespace) -> str | None:
    """The one-line message for a user mistake, or None for a lab bug."""
    if isinstance(exc, DriverProfileError):
        return f"invalid lab driver file {args.drivers}: {exc}"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return f"port {args.port} is already in use on 127.0.0.1"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return None


async def _serve(args: argparse.Namespace) -> None:
    from .lab import Lab  # after the check for the [lab] extra, which it needs

    lab = Lab(args.drivers, args.state_dir, args.port, guests=args.guests)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await lab.start_async()
    try:
        out = lab.write_kubeconfig(args.kubeconfig) if args.kubeconfig else lab.kubeconfig_path
        print(f"lab listening on {lab.server_url} (kubeconfig: {out})", flush=True)
        await stopping.wait()
    finally:
        await lab.stop_async()
        if args.kubeconfig:
            args.kubeconfig.unlink(missing_ok=True)  # its CA and token die with the lab


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    problem = lab_extras_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.drivers is not None and not args.drivers.is_file():
        print(f"error: drivers file not found: {args.drivers}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(_serve(args))
    except Exception as exc:
        message = _user_error(exc, args)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
