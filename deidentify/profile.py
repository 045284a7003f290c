"""Loads and validates a confidentiality profile: the rules data file -> a lookup by tag.

The rules are data (``deidentify/profiles/*.json``); this module only parses them, checks
every row against pydicom's data dictionary and answers "which action for this tag".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path

from pydicom.datadict import dictionary_has_tag, keyword_for_tag, tag_for_keyword

from deidentify.errors import ProfileError

BASIC_PROFILE_RESOURCE = "basic_profile.json"

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

    def rule_for(self, tag: int) -> Rule | None:
        """The rule for a public tag; exact rows win over repeating-group patterns."""
        rule = self.exact.get(tag)
        if rule is not None:
            return rule
        for pattern in self.patterns:
            if pattern.matches(tag):
                return pattern
        return None


def load_basic_profile() -> Profile:
    """The pinned Basic Application Level Confidentiality Profile shipped in the package."""
    text = resources.files("deidentify.profiles").joinpath(BASIC_PROFILE_RESOURCE).read_text("utf-8")
    return parse_profile(text, source=BASIC_PROFILE_RESOURCE)


def load_profile(path: Path) -> Profile:
    """A profile from a file path (for options and tests)."""
    return parse_profile(path.read_text("utf-8"), source=str(path))


def parse_profile(text: str, source: str) -> Profile:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProfileError(f"{source}: not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict):
        raise ProfileError(f"{source}: the top level must be an object")
    for field in ("profile", "edition", "method_code", "private_attributes", "unlisted_instance_uids", "rules"):
        if field not in document:
            raise ProfileError(f"{source}: missing field {field!r}")
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
    patterns.sort(key=lambda rule: bin(rule.mask).count("1"), reverse=True)

    pseudonymised = document.get("pseudonymised", [])
    for keyword in pseudonymised:
        if tag_for_keyword(keyword) is None:
            raise ProfileError(f"{source}: pseudonymised keyword {keyword!r} is not in the DICOM dictionary")
    try:
        from pydicom.sr.codedict import codes

        getattr(codes.DCM, document["method_code"])
    except AttributeError:
        raise ProfileError(f"{source}: method_code {document['method_code']!r} is not a DCM code") from None

    return Profile(
        name=str(document["profile"]),
        edition=str(document["edition"]),
        method_code=str(document["method_code"]),
        private_attributes=_parse_action(document["private_attributes"], f"{source}: private_attributes"),
        unlisted_instance_uids=_parse_action(document["unlisted_instance_uids"], f"{source}: unlisted_instance_uids"),
        pseudonymised=frozenset(pseudonymised),
        exact=exact,
        patterns=tuple(patterns),
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
