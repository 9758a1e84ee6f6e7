"""Run one shop process with a start-up module imported before anything of its own:
``python -m tests.rolling.launch STARTUP COMMAND...``, COMMAND being what follows ``python`` otherwise
(``manage.py consume_orders``, ``-m gunicorn shopsite.wsgi ...``).

The process is the same one (no child): signals reach it as they would reach it started directly.
"""

import importlib
import runpy
import sys


def main() -> None:
    startup, *command = sys.argv[1:]
    importlib.import_module(startup)
    if command[0] == "-m":
        sys.argv = command[1:]
        runpy.run_module(command[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = command
        runpy.run_path(command[0], run_name="__main__")


if __name__ == "__main__":
    main()
