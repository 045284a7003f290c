"""Loads and validates a confidentiality profile: the rules data file -> a lookup by tag.

The rules are data (``deidentify/profiles/*.json``); this module only parses them, checks
every row against pydicom's data dictionary and answers "which action for this tag".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cache
from importlib import resources
from pathlib import Path

from pydicom._private_dict import private_dictionaries
from pydicom.datadict import dictionary_has_tag, keyword_for_tag, tag_for_keyword

from deidentify.errors import ProfileError

BASIC_PROFILE_RESOURCE = "basic_profile.json"
OPTIONS_PACKAGE = "deidentify.profiles.options"

# The option names used in stack config, DEID_PROFILE_OPTIONS and --options; each has a data
# file profiles/options/<name>.json. Applied in this order; on a tag two options both list,
# K (retain) wins over C (clean), which wins over the Basic action.
OPTION_NAMES = (
    "retain-longitudinal-modified-dates",
    "retain-longitudinal-full-dates",
    "retain-patient-characteristics",
    "retain-device-identity",
    "retain-safe-private",
    "retain-uids",
    "clean-descriptors",
    "clean-structured-content",
    "clean-graphics",
)
_EXCLUSIVE_OPTIONS = ({"retain-longitudinal-modified-dates", "retain-longitudinal-full-dates"},)
_TEMPORAL_FLAGS = ("REMOVED", "MODIFIED", "UNMODIFIED")

_TAG_PATTERN = re.compile(r"^\(([0-9A-F]{2})([0-9A-F]{2}|XX),([0-9A-F]{4}|XXXX)\)$")


class Action(str, Enum):
    """PS3.15 Table E.1-1a action codes, including the compound ones."""

    REPLACE = "D"
    EMPTY = "Z"
    REMOVE = "X"
    KEEP = "K"
    CLEAN = "C"
    REPLACE_UID = "U"
    EMPTY_OR_REPLACE = "Z/D"
    REMOVE_OR_EMPTY = "X/Z"
    REMOVE_OR_REPLACE = "X/D"
    REMOVE_OR_EMPTY_OR_REPLACE = "X/Z/D"
    REMOVE_OR_EMPTY_OR_REPLACE_UIDS = "X/Z/U*"


@dataclass(frozen=True)
class Rule:
    """One row of the profile: a tag (or repeating-group pattern) and its action."""

    tag_text: str
    keyword: str | None
    action: Action
    basis: str
    value: int
    mask: int

    def matches(self, tag: int) -> bool:
        return (tag & self.mask) == self.value


@dataclass(frozen=True)
class ProfileOption:
    """One Annex E option: its name, CID 7050 code, edition and the rows it changes."""

    name: str
    method_code: str
    edition: str
    rules: tuple[Rule, ...]
    private_attributes: Action | None = None
    unlisted_instance_uids: Action | None = None
    unlisted_temporal: Action | None = None
    longitudinal_temporal_information: str | None = None
    safe_private: frozenset[tuple[str, int, int]] = frozenset()


@dataclass(frozen=True)
class Profile:
    """A loaded profile: edition metadata plus rules indexed for lookup."""

    name: str
    edition: str
    method_code: str
    private_attributes: Action
    unlisted_instance_uids: Action
    pseudonymised: frozenset[str]
    exact: dict[int, Rule]
    patterns: tuple[Rule, ...]
    # Public DA/DT/TM elements no row lists: removed or replaced like the Basic date rows,
    # shifted under Modified Dates, never passed through.
    unlisted_temporal: Action = Action.REMOVE_OR_EMPTY_OR_REPLACE
    longitudinal_temporal_information: str = "REMOVED"
    options: tuple[ProfileOption, ...] = ()
    # (private creator, group, element offset) of private attributes known to be safe.
    safe_private: frozenset[tuple[str, int, int]] = frozenset()
    _lookup: dict[int, Rule | None] = field(default_factory=dict, compare=False, repr=False)

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(option.name for option in self.options)

    def rule_for(self, tag: int) -> Rule | None:
        """The rule for a public tag; exact rows win over repeating-group patterns."""
        try:
            return self._lookup[tag]
        except KeyError:
            pass
        rule = self.exact.get(tag)
        if rule is None:
            rule = next((pattern for pattern in self.patterns if pattern.matches(tag)), None)
        self._lookup[tag] = rule
        return rule

    def with_options(self, names: Iterable[str]) -> Profile:
        """This profile with the named options applied (unknown name -> ProfileError)."""
        requested = set(names)
        unknown = sorted(requested - set(OPTION_NAMES))
        if unknown:
            raise ProfileError(
                f"unknown profile option {unknown[0]!r}; known options: {', '.join(OPTION_NAMES)}"
            )
        for exclusive in _EXCLUSIVE_OPTIONS:
            if exclusive <= requested:
                raise ProfileError(f"profile options {' and '.join(sorted(exclusive))} exclude each other")
        options = tuple(load_option(name) for name in OPTION_NAMES if name in requested)
        if not options:
            return self
        exact = dict(self.exact)
        patterns = {(rule.value, rule.mask): rule for rule in self.patterns}
        option_actions: dict[tuple[int, int], Action] = {}
        profile = self
        for option in options:
            for rule in option.rules:
                key = (rule.value, rule.mask)
                previous = option_actions.get(key)
                if previous is Action.KEEP or (previous is Action.CLEAN and rule.action is not Action.KEEP):
                    continue
                option_actions[key] = rule.action
                if rule.mask == 0xFFFFFFFF:
                    exact[rule.value] = rule
                else:
                    patterns[key] = rule
            profile = replace(
                profile,
                private_attributes=option.private_attributes or profile.private_attributes,
                unlisted_instance_uids=option.unlisted_instance_uids or profile.unlisted_instance_uids,
                unlisted_temporal=option.unlisted_temporal or profile.unlisted_temporal,
                longitudinal_temporal_information=option.longitudinal_temporal_information
                or profile.longitudinal_temporal_information,
                safe_private=profile.safe_private | option.safe_private,
            )
        return replace(
            profile,
            exact=exact,
            patterns=tuple(sorted(patterns.values(), key=lambda rule: rule.mask.bit_count(), reverse=True)),
            options=self.options + options,
            _lookup={},
        )


def load_basic_profile() -> Profile:
    """The pinned Basic Application Level Confidentiality Profile shipped in the package."""
    text = resources.files("deidentify.profiles").joinpath(BASIC_PROFILE_RESOURCE).read_text("utf-8")
    return parse_profile(text, source=BASIC_PROFILE_RESOURCE)


@cache
def load_option(name: str) -> ProfileOption:
    """The data file of one option, validated against pydicom's dictionaries."""
    if name not in OPTION_NAMES:
        raise ProfileError(f"unknown profile option {name!r}; known options: {', '.join(OPTION_NAMES)}")
    source = f"options/{name}.json"
    text = resources.files(OPTIONS_PACKAGE).joinpath(f"{name}.json").read_text("utf-8")
    return parse_option(text, source=source, expected_name=name)


def parse_option(text: str, source: str, expected_name: str | None = None) -> ProfileOption:
    document = _json_object(text, source)
    for required in ("option", "code", "edition", "rules"):
        if required not in document:
            raise ProfileError(f"{source}: missing field {required!r}")
    if expected_name is not None and document["option"] != expected_name:
        raise ProfileError(f"{source}: names option {document['option']!r}, expected {expected_name!r}")
    _check_method_code(document["code"], f"{source}: code")
    if not isinstance(document["rules"], list):
        raise ProfileError(f"{source}: 'rules' must be a list")
    rules = tuple(_parse_rule(row, where=f"{source}: rule {n}") for n, row in enumerate(document["rules"], 1))
    optional_actions = {
        key: _parse_action(document[key], f"{source}: {key}") if key in document else None
        for key in ("private_attributes", "unlisted_instance_uids", "unlisted_temporal")
    }
    flag = document.get("longitudinal_temporal_information")
    if flag is not None and flag not in _TEMPORAL_FLAGS:
        raise ProfileError(f"{source}: longitudinal_temporal_information must be one of {', '.join(_TEMPORAL_FLAGS)}")
    return ProfileOption(
        name=str(document["option"]),
        method_code=str(document["code"]),
        edition=str(document["edition"]),
        rules=rules,
        longitudinal_temporal_information=flag,
        safe_private=_parse_safe_private(document.get("safe_private", []), source),
        **optional_actions,
    )


def _parse_safe_private(rows: object, source: str) -> frozenset[tuple[str, int, int]]:
    """Safe private rows, each checked against pydicom's private dictionary (creator, tag, VR)."""
    if not isinstance(rows, list):
        raise ProfileError(f"{source}: 'safe_private' must be a list")
    safe: set[tuple[str, int, int]] = set()
    for number, row in enumerate(rows, start=1):
        where = f"{source}: safe_private {number}"
        try:
            creator, group_text, element_text, vr = row["creator"], row["group"], row["element"], row["vr"]
            group, element = int(group_text, 16), int(element_text, 16)
        except (KeyError, TypeError, ValueError):
            raise ProfileError(f"{where}: needs creator, group (hex), element (hex, 00-FF) and vr") from None
        if group % 2 == 0 or not 0 <= element <= 0xFF:
            raise ProfileError(f"{where}: ({group_text},xx{element_text}) is not a private data element")
        known = private_dictionaries.get(creator, {}).get(f"{group:04X}xx{element:02X}")
        if known is None:
            raise ProfileError(f"{where}: {creator!r} ({group:04X},xx{element:02X}) is not in pydicom's private dictionary")
        if known[0] != vr:
            raise ProfileError(f"{where}: VR {vr} does not match pydicom's private dictionary ({known[0]})")
        safe.add((creator, group, element))
    return frozenset(safe)


def _check_method_code(name: object, where: str) -> None:
    from pydicom.sr.codedict import codes

    try:
        getattr(codes.DCM, str(name))
    except AttributeError:
        raise ProfileError(f"{where}: {name!r} is not a DCM code") from None


def _json_object(text: str, source: str) -> dict:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProfileError(f"{source}: not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict):
        raise ProfileError(f"{source}: the top level must be an object")
    return document


def load_profile(path: Path) -> Profile:
    """A profile from a file path (for options and tests)."""
    return parse_profile(path.read_text("utf-8"), source=str(path))


def parse_profile(text: str, source: str) -> Profile:
    document = _json_object(text, source)
    for required in ("profile", "edition", "method_code", "private_attributes", "unlisted_instance_uids", "rules"):
        if required not in document:
            raise ProfileError(f"{source}: missing field {required!r}")
    rows = document["rules"]
    if not isinstance(rows, list) or not rows:
        raise ProfileError(f"{source}: 'rules' must be a non-empty list")

    exact: dict[int, Rule] = {}
    patterns: list[Rule] = []
    for number, row in enumerate(rows, start=1):
        rule = _parse_rule(row, where=f"{source}: rule {number}")
        if rule.mask == 0xFFFFFFFF:
            if rule.value in exact:
                raise ProfileError(f"{source}: rule {number}: tag {rule.tag_text} is listed twice")
            exact[rule.value] = rule
        else:
            patterns.append(rule)
    # More specific patterns (more fixed bits) are tried first.
    patterns.sort(key=lambda rule: rule.mask.bit_count(), reverse=True)

    pseudonymised = document.get("pseudonymised", [])
    for keyword in pseudonymised:
        if tag_for_keyword(keyword) is None:
            raise ProfileError(f"{source}: pseudonymised keyword {keyword!r} is not in the DICOM dictionary")
    _check_method_code(document["method_code"], f"{source}: method_code")

    return Profile(
        name=str(document["profile"]),
        edition=str(document["edition"]),
        method_code=str(document["method_code"]),
        private_attributes=_parse_action(document["private_attributes"], f"{source}: private_attributes"),
        unlisted_instance_uids=_parse_action(document["unlisted_instance_uids"], f"{source}: unlisted_instance_uids"),
        pseudonymised=frozenset(pseudonymised),
        exact=exact,
        patterns=tuple(patterns),
        unlisted_temporal=_parse_action(
            document.get("unlisted_temporal", Action.REMOVE_OR_EMPTY_OR_REPLACE.value), f"{source}: unlisted_temporal"
        ),
    )


def _parse_action(text: object, where: str) -> Action:
    try:
        return Action(text)
    except ValueError:
        allowed = ", ".join(action.value for action in Action)
        raise ProfileError(f"{where}: unknown action {text!r} (allowed: {allowed})") from None


def _parse_rule(row: object, where: str) -> Rule:
    if not isinstance(row, dict):
        raise ProfileError(f"{where}: must be an object with 'tag' and 'action'")
    tag_text = row.get("tag")
    if not isinstance(tag_text, str):
        raise ProfileError(f"{where}: missing 'tag'")
    match = _TAG_PATTERN.match(tag_text.upper())
    if match is None:
        raise ProfileError(f"{where}: tag {tag_text!r} is not of the form (GGGG,EEEE) or (60XX,3000)")
    group_high, group_low, element = match.groups()
    value = int(group_high, 16) << 24
    mask = 0xFF000000
    if group_low != "XX":
        value |= int(group_low, 16) << 16
        mask |= 0x00FF0000
    if element != "XXXX":
        value |= int(element, 16)
        mask |= 0x0000FFFF
    if (value >> 16) % 2 == 1 and mask & 0x00FF0000:
        raise ProfileError(f"{where}: tag {tag_text} is private; private attributes have their own setting")

    keyword = row.get("keyword")
    if mask == 0xFFFFFFFF:
        if not dictionary_has_tag(value):
            raise ProfileError(f"{where}: tag {tag_text} is not in the DICOM dictionary")
        known = keyword_for_tag(value)
        if keyword is not None and keyword != known:
            raise ProfileError(f"{where}: keyword {keyword!r} does not match tag {tag_text} ({known})")
        keyword = known
    elif keyword is not None:
        # A repeating-group row names the element of its first group, e.g. (60XX,3000) OverlayData.
        known = keyword_for_tag(value)
        if keyword != known:
            raise ProfileError(f"{where}: keyword {keyword!r} does not match tag {tag_text} ({known or 'unknown'})")

    action = _parse_action(row.get("action"), where)
    return Rule(
        tag_text=tag_text.upper(),
        keyword=keyword,
        action=action,
        basis=str(row.get("basis", "")),
        value=value,
        mask=mask,
    )
