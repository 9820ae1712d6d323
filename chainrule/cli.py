"""The ``chainrule`` command line.

The ``chainrule`` command: ``demo``, ``playground``, ``bench``, ``data``, ``torch``, ``lessons``,
``--version``.
"""

from __future__ import annotations

import argparse
import sys

import chainrule


def _demo(args: argparse.Namespace) -> int:
    from chainrule.train.demo import main

    return main(epochs=args.epochs, plot=args.plot, progress=not args.no_progress, quick=args.quick)


# what each optional extra installs: a missing module is reported as the extra to install
EXTRAS = {"starlette": "playground", "uvicorn": "playground", "websockets": "playground"}


def missing_extra(command: str, error: ModuleNotFoundError) -> int:
    """Report a module of an optional extra that is not installed, in one line; returns 2."""
    module = (error.name or "").split(".")[0]
    extra = EXTRAS.get(module)
    if extra is None:
        raise error
    print(
        f"chainrule {command}: needs the '{extra}' extra (module {module} is missing): "
        f"pip install 'chainrule[{extra}]'",
        file=sys.stderr,
    )
    return 2


def _playground(args: argparse.Namespace) -> int:
    try:
        from chainrule.playground.server import main
    except ModuleNotFoundError as e:
        return missing_extra("playground", e)
    return main(host=args.host, port=args.port)


def _bench(args: argparse.Namespace) -> int:
    from chainrule.bench.run import main

    return main(args.names, samples=args.samples, quick=args.quick)


def _data(args: argparse.Namespace) -> int:
    from chainrule.data.fetch import main

    return main(args.name, root=args.root, mirrors=args.mirror)


def _torch(args: argparse.Namespace) -> int:
    from chainrule.compat import run_script

    return run_script(args.script, args.args)


def _lessons(args: argparse.Namespace) -> int:
    from chainrule.lessons import main

    return main(args.name, list_only=args.list, all_lessons=args.all, quick=args.quick, out_dir=args.out)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``chainrule`` command and its sub-commands."""
    parser = argparse.ArgumentParser(prog="chainrule", description="chainrule: deep learning you can read.")
    parser.add_argument("--version", action="version", version=f"chainrule {chainrule.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="train a CNN on the bundled 8x8 digits and plot the training curves")
    p.add_argument("--epochs", type=int, default=None, help="number of epochs (default: the demo's own)")
    p.add_argument("--plot", default="chainrule-demo.png", help="where to write the training-curve plot")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--quick", action="store_true", help="one epoch on 256 images: a smoke test of an install")
    p.set_defaults(fn=_demo)

    p = sub.add_parser("playground", help="serve the browser playground on 127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.set_defaults(fn=_playground)

    p = sub.add_parser("bench", help="benchmarks, side by side with PyTorch when it is installed")
    p.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    p.add_argument("--samples", type=int, default=30, help="timed samples per benchmark")
    p.add_argument("--quick", action="store_true", help="few samples, for a smoke test")
    p.set_defaults(fn=_bench)

    p = sub.add_parser(
        "data", help="download a data set into the cache: mnist | fashion-mnist | kmnist | cifar10"
    )
    p.add_argument("action", choices=["get"])
    p.add_argument("name", choices=["mnist", "fashion-mnist", "kmnist", "cifar10"])
    p.add_argument(
        "--root", default=None, help="cache folder (default: $CHAINRULE_DATA or ~/.cache/chainrule)"
    )
    p.add_argument(
        "--mirror",
        action="append",
        default=None,
        help="base URL of your own mirror serving <URL>/<name>/<file> (repeatable; replaces the public ones)",
    )
    p.set_defaults(fn=_data)

    p = sub.add_parser(
        "torch", help="run a PyTorch script on chainrule (import torch/torchvision give chainrule)"
    )
    p.add_argument("script", help="the Python file to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    p.set_defaults(fn=_torch)

    p = sub.add_parser("lessons", help="the lessons gallery: list them, run one (number or name) or all")
    p.add_argument("name", nargs="?", default=None, help="lesson number, short name or file stem")
    p.add_argument("--list", action="store_true", help="list the lessons (the default without NAME)")
    p.add_argument("--all", action="store_true", help="run every lesson in turn")
    p.add_argument("--quick", action="store_true", help="the shortened version (one seed, seconds)")
    p.add_argument("--out", default=None, help="with --quick: folder for the figures (default: none)")
    p.set_defaults(fn=_lessons)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``chainrule`` command line with ``argv`` (default: sys.argv); returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
