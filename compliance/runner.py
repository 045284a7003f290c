"""Run a Pulumi Python program once, under mocks, for one stack's config.

The recipe follows what the Python language host does, with the traps of running several stacks
in one process avoided (reference/pulumi-notes.md section 1): a fresh event loop set before
`set_mocks`, the root stack reset, the config map replaced, a fresh capturing monitor, and the
program re-executed with `runpy` from its own directory. Process-wide state the run touches
(environment, working directory, `sys.path`, the program's own modules) is restored afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import runpy
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import compliance
from compliance.capture import CapturedRun, CapturingMonitor
from compliance.errors import ProgramFailedError
from compliance.mocks import PlanMocks
from compliance.project import PulumiProject, StackConfig

# Environment that would change what the program or the SDK sees (region fallbacks, engine
# settings, config from the environment); cleared for the run.
_CLEARED_ENV_PREFIXES = ("PULUMI_",)
_CLEARED_ENV_NAMES = ("AWS_REGION", "AWS_DEFAULT_REGION")


_PLACEHOLDER_ROOT = object()


def _is_under(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory)
    except (ValueError, OSError):
        return False
    return True


def _module_file(module: object) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file) if file else None


def _protected_dirs(extra: tuple[Path, ...]) -> tuple[Path, ...]:
    """Modules never evicted: the checker itself, installed packages, and e.g. the policy pack."""
    dirs = {Path(compliance.__file__).resolve().parent, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    dirs.update(path.resolve() for path in extra)
    return tuple(dirs)


def _is_protected(file: Path, protected: tuple[Path, ...]) -> bool:
    return any(_is_under(file, directory) for directory in protected)


def _evict_foreign_modules(program_dir: Path, protected: tuple[Path, ...]) -> dict[str, object]:
    """Before a run: drop modules this program would import by name but that were loaded from
    elsewhere (another project's `components`), so the program gets its own. Returns them, so
    they can be put back after the run for the code that imported them."""
    evicted: dict[str, object] = {}
    top_level = {entry.stem if entry.suffix == ".py" else entry.name for entry in program_dir.iterdir()}
    top_level = {name for name in top_level if name.isidentifier() and not name.startswith("__")}
    for name, module in list(sys.modules.items()):
        file = _module_file(module)
        if file is None or _is_protected(file, protected) or _is_under(file, program_dir):
            continue
        if name.split(".")[0] in top_level:
            evicted[name] = sys.modules.pop(name)
    return evicted


def _evict_modules_loaded_by_run(
    program_dir: Path, loaded_before: set[str], protected: tuple[Path, ...]
) -> None:
    """After a run: drop the program's own modules it loaded, so the next run re-executes them
    (module-level resources and config reads happen again, for the next stack's config)."""
    for name, module in list(sys.modules.items()):
        if name in loaded_before:
            continue
        file = _module_file(module)
        if file is not None and _is_under(file, program_dir) and not _is_protected(file, protected):
            del sys.modules[name]


def _is_cleared_env(key: str) -> bool:
    return key in _CLEARED_ENV_NAMES or key.startswith(_CLEARED_ENV_PREFIXES)


@contextlib.contextmanager
def _program_process_state(program_dir: Path, protected: tuple[Path, ...]) -> Iterator[None]:
    saved_env = {key: value for key, value in os.environ.items() if _is_cleared_env(key)}
    saved_cwd = os.getcwd()
    saved_path = list(sys.path)
    evicted = _evict_foreign_modules(program_dir, protected)
    loaded_before = set(sys.modules)
    for key in saved_env:
        del os.environ[key]
    os.chdir(program_dir)
    sys.path.insert(0, str(program_dir))
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for key in [k for k in os.environ if _is_cleared_env(k)]:
            del os.environ[key]
        os.environ.update(saved_env)
        _evict_modules_loaded_by_run(program_dir, loaded_before, protected)
        sys.modules.update(evicted)


def _shutdown_loop(loop: asyncio.AbstractEventLoop) -> None:
    try:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def run_program(
    project: PulumiProject,
    config: StackConfig,
    mocks: PlanMocks,
    *,
    preview: bool = True,
    protected_dirs: tuple[Path, ...] = (),
) -> CapturedRun:
    """Run the project's program for `config.stack`; return every registration it made.

    Raises ProgramFailedError when the program (or one of its applies) raises.
    """
    # Imported here: the SDK's runtime modules hold the global state this function resets.
    from pulumi.runtime import config as pulumi_config
    from pulumi.runtime import settings
    from pulumi.runtime.mocks import set_mocks
    from pulumi.runtime.stack import run_in_stack

    monitor = CapturingMonitor(mocks)
    program_file = str(project.program_file)
    with _program_process_state(project.program_dir, _protected_dirs(protected_dirs)):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            settings.ROOT.set(None)
            pulumi_config.set_all_config(dict(config.values), sorted(config.secret_keys))
            settings.SETTINGS.outputs.clear()
            settings.SETTINGS.rpc_manager.clear()
            # set_mocks registers a root stack of its own when none is set; with the capturing
            # monitor that would be a second `pulumi:pulumi:Stack` registration (a phantom
            # duplicate URN). A placeholder root suppresses it; run_in_stack makes the real one.
            settings.ROOT.set(_PLACEHOLDER_ROOT)  # type: ignore[arg-type]
            set_mocks(
                mocks,
                project=project.name,
                stack=config.stack,
                preview=preview,
                monitor=monitor,
                organization="organization",
            )
            settings.SETTINGS.root_directory = str(project.directory)
            settings.ROOT.set(None)
            loop.run_until_complete(run_in_stack(lambda: runpy.run_path(program_file, run_name="__main__")))
        except (Exception, SystemExit) as error:  # noqa: BLE001 - any failure of the program is reported as such
            raise ProgramFailedError(config.stack, error, traceback.format_exc()) from error
        finally:
            settings.ROOT.set(None)
            _shutdown_loop(loop)
    return monitor.captured
