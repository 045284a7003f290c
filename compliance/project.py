"""Reading a Pulumi Python project: `Pulumi.yaml` and its `Pulumi.<stack>.yaml` files.

Config values are turned into the string map the Pulumi CLI hands a program (`PULUMI_CONFIG`):
namespaced keys, non-strings JSON-encoded. Encrypted (`secure:`) values cannot be decrypted
offline; they become placeholders marked secret, and the stack config says which keys those are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compliance.errors import CheckInputError

PROJECT_FILE = "Pulumi.yaml"
STACK_TAGS_KEY = "pulumi:tags"

# Keys that make a Pulumi.yaml `config:` entry a declaration rather than a bare default value.
_DECLARATION_KEYS = frozenset({"type", "description", "default", "value", "secret", "items"})

# Placeholder per declared config type, so typed getters (`get_int`, `get_object`) still parse it.
_PLACEHOLDER_BY_TYPE = {
    "string": "offline-placeholder",
    "integer": "0",
    "boolean": "false",
    "array": "[]",
    "object": "{}",
}


@dataclass(frozen=True)
class ConfigDeclaration:
    """One `config:` entry of Pulumi.yaml."""

    key: str  # namespaced, e.g. "trial-imaging:kind"
    type: str | None = None
    default: Any = None
    has_default: bool = False


@dataclass(frozen=True)
class PulumiProject:
    directory: Path
    name: str
    runtime: str
    main: Path  # the program file or directory, absolute
    stack_config_dir: Path
    description: str = ""
    config: dict[str, ConfigDeclaration] = field(default_factory=dict)

    @property
    def program_file(self) -> Path:
        return self.main / "__main__.py" if self.main.is_dir() else self.main

    @property
    def program_dir(self) -> Path:
        """Working directory and first import path of the program, as the language host sets them."""
        return self.main if self.main.is_dir() else self.directory

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stack_names(self) -> list[str]:
        names = []
        for path in self.stack_config_dir.glob("Pulumi.*.yaml"):
            stack = path.name[len("Pulumi.") : -len(".yaml")]
            if stack:
                names.append(stack)
        return sorted(names)


@dataclass(frozen=True)
class StackConfig:
    """A stack's config as the program sees it, plus what the offline run had to fake."""

    stack: str
    file: Path
    values: dict[str, str]
    secret_keys: frozenset[str]
    placeholder_keys: tuple[str, ...]  # encrypted values replaced by placeholders
    tags: dict[str, str]  # `pulumi:tags` of the stack file
    environments: tuple[str, ...] = ()  # Pulumi ESC environments the file imports (not resolved offline)


def read_input_text(path: Path, what: str) -> str:
    """A UTF-8 input file's text; CheckInputError naming `what` and the file when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise CheckInputError(f"cannot read {what} {path}: {error.strerror or error}") from None


def _read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    text = read_input_text(path, what)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CheckInputError(f"{what} {path} is not valid YAML{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CheckInputError(f"{what} {path} must be a YAML mapping, found {type(data).__name__}")
    return data


def _namespaced(project_name: str, key: str) -> str:
    return key if ":" in key else f"{project_name}:{key}"


def _parse_declarations(project_name: str, raw: Any, path: Path) -> dict[str, ConfigDeclaration]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CheckInputError(f"{path}: 'config' must be a mapping of config keys")
    declarations = {}
    for raw_key, entry in raw.items():
        key = _namespaced(project_name, str(raw_key))
        if isinstance(entry, dict) and entry and set(entry) <= _DECLARATION_KEYS:
            if "value" in entry:
                declarations[key] = ConfigDeclaration(key, entry.get("type"), entry["value"], True)
            elif "default" in entry:
                declarations[key] = ConfigDeclaration(key, entry.get("type"), entry["default"], True)
            else:
                declarations[key] = ConfigDeclaration(key, entry.get("type"))
        else:
            declarations[key] = ConfigDeclaration(key, None, entry, True)
    return declarations


def load_project(directory: Path) -> PulumiProject:
    """Read `<directory>/Pulumi.yaml`; raise CheckInputError naming the file when it is unusable."""
    directory = directory.resolve()
    path = directory / PROJECT_FILE
    if not path.is_file():
        raise CheckInputError(f"no {PROJECT_FILE} in {directory}")
    data = _read_yaml_mapping(path, "project file")

    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise CheckInputError(f"{path}: 'name' is missing or not a string")

    runtime = data.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise CheckInputError(f"{path}: runtime is {runtime_name!r}; only 'python' projects can be checked")

    main = directory / str(data.get("main") or "__main__.py")
    if main.is_dir():
        main_file = main / "__main__.py"
    else:
        main_file = main
    if not main_file.is_file():
        raise CheckInputError(f"{path}: the program {main_file} does not exist")

    stack_config_dir = directory / str(data.get("stackConfigDir") or ".")
    if not stack_config_dir.is_dir():
        raise CheckInputError(f"{path}: stackConfigDir {stack_config_dir} is not a directory")

    return PulumiProject(
        directory=directory,
        name=name,
        runtime="python",
        main=main.resolve(),
        stack_config_dir=stack_config_dir.resolve(),
        description=str(data.get("description") or ""),
        config=_parse_declarations(name, data.get("config"), path),
    )


def _encode(value: Any) -> str:
    """Config values as the CLI passes them: strings as is, everything else JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _replace_secure(value: Any, placeholder: Any) -> tuple[Any, bool]:
    """Replace every `{secure: ...}` inside a config value; report whether there was one."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return placeholder, True
        found = False
        replaced = {}
        for key, item in value.items():
            replaced[key], inner = _replace_secure(item, "offline-placeholder")
            found = found or inner
        return replaced, found
    if isinstance(value, list):
        found = False
        items = []
        for item in value:
            new_item, inner = _replace_secure(item, "offline-placeholder")
            items.append(new_item)
            found = found or inner
        return items, found
    return value, False


def load_stack_config(project: PulumiProject, stack: str) -> StackConfig:
    """The config map for one stack: project defaults overlaid by the stack file."""
    path = project.stack_file(stack)
    data = _read_yaml_mapping(path, "stack file")
    raw_config = data.get("config") or {}
    if not isinstance(raw_config, dict):
        raise CheckInputError(f"stack file {path}: 'config' must be a mapping of config keys")

    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    placeholders: list[str] = []

    for key, declaration in project.config.items():
        if declaration.has_default and declaration.default is not None:
            values[key] = _encode(declaration.default)

    tags: dict[str, str] = {}
    for raw_key, raw_value in raw_config.items():
        key = _namespaced(project.name, str(raw_key))
        declared = project.config.get(key)
        placeholder = _PLACEHOLDER_BY_TYPE.get(declared.type if declared and declared.type else "string")
        value, was_secure = _replace_secure(raw_value, placeholder)
        if was_secure:
            secret_keys.add(key)
            placeholders.append(key)
        if key == STACK_TAGS_KEY:
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise CheckInputError(f"stack file {path}: '{STACK_TAGS_KEY}' must be a mapping of strings")
            tags = {str(k): v for k, v in value.items()}
        values[key] = _encode(value)

    environments = data.get("environment") or ()
    if isinstance(environments, str):
        environments = (environments,)
    elif isinstance(environments, dict):
        environments = tuple(str(env) for env in environments.get("imports") or ())
    else:
        environments = tuple(str(env) for env in environments)

    return StackConfig(
        stack=stack,
        file=path,
        values=values,
        secret_keys=frozenset(secret_keys),
        placeholder_keys=tuple(sorted(placeholders)),
        tags=tags,
        environments=environments,
    )


def stack_tags(project: PulumiProject, config: StackConfig) -> dict[str, str]:
    """Stack tags as the CLI hands them to policy packs: `pulumi:tags` plus the project's own."""
    tags = dict(config.tags)
    tags["pulumi:project"] = project.name
    tags["pulumi:runtime"] = project.runtime
    if project.description:
        tags["pulumi:description"] = project.description
    return tags
