"""The console's program forms, drawn from the configuration's schema (issue 14: one schema for the file, the admin
API and the console's forms).

An input is named by its path in the program document — ``earn.signup_points``, ``rewards[1].title`` — the same
path the schema's errors name, so an error lands next to its input. A form only ever *edits* a copy of a document:
what it does not draw (a reward's product lists, a campaign's weekdays) is kept as it was, and the whole result
is then validated by the schema exactly as a YAML import or an API draft is.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields
from werkzeug.datastructures import MultiDict

from bridge import config_schema as cs

SECOND_LOCALE = "fa"  # the console offers a Persian text beside every text shoppers read
"""Texts in other locales, given in YAML or through the API, are kept as they are."""


@dataclass(frozen=True)
class Input:
    path: str  # where in the document: "rewards[1].points"
    key: str  # the last key, the input's label
    kind: str  # text | shopper_text | integer | number | flag | choice | moment
    value: Any
    help: str
    required: bool
    choices: tuple[str, ...] = ()
    second: str = ""  # shopper_text: the Persian text


@dataclass
class Group:
    """The inputs of one item (a reward, a rule) or section, and whether it may be removed."""

    title: str  # English, translated by the page: "Reward", "Rule", "New reward"...
    path: str
    inputs: list[Input] = field(default_factory=list)
    removable: bool = False
    new: bool = False
    detail: str = ""  # the item's id (and a rule's type)


_SKIPPED = {"id", "type"}  # an item's identity: shown, never edited (a new item gets them from its own inputs)


def _kind(f: fields.Field[Any]) -> str | None:
    if isinstance(f, cs.ShopperText):
        return "shopper_text"
    if isinstance(f, cs.Choice):
        return "choice"
    if isinstance(f, cs.Text):
        return "text"
    if isinstance(f, cs.Integer):
        return "integer"
    if isinstance(f, cs.Number):
        return "number"
    if isinstance(f, cs.Flag):
        return "flag"
    if isinstance(f, cs.Moment):
        return "moment"
    return None  # lists, nested sections, mappings: kept, edited in YAML


def inputs_of(schema: Schema, values: Mapping[str, Any], prefix: str, *, skip: Collection[str] = ()) -> list[Input]:
    """An input per scalar key of ``schema``, filled from ``values`` (a document mapping)."""
    found = []
    for name, f in schema.load_fields.items():
        key = f.data_key or name
        kind = _kind(f)
        if kind is None or key in skip:
            continue
        value = values.get(key)
        second = ""
        if kind == "shopper_text" and isinstance(value, Mapping):
            second = str(value.get(SECOND_LOCALE, ""))
            value = value.get("en") or next(iter(value.values()), "")
        choices = tuple(getattr(f, "choices", ()) or ())
        found.append(
            Input(
                path=f"{prefix}.{key}" if prefix else key,
                key=key,
                kind=kind,
                value="" if value is None else value,
                help=str(f.metadata.get("description", "")),
                required=bool(f.required),
                choices=choices,
                second=second,
            )
        )
    return found


def groups(document: Mapping[str, Any]) -> list[Group]:
    """The program's form: the club, earning, each reward, each rule, referrals; plus a blank reward and a blank
    campaign to add."""
    club = Group("Club", "", inputs_of(cs.ProgramSchema(), document, "", skip=("id", "timezone")))
    earn = Group("Earning", "earn", inputs_of(cs.EarnSchema(), document.get("earn", {}), "earn"))
    result = [club, earn]
    for i, reward in enumerate(document.get("rewards") or []):
        path = f"rewards[{i}]"
        items = inputs_of(cs.RewardSchema(), reward, path, skip=_SKIPPED)
        result.append(Group("Reward", path, items, removable=True, detail=str(reward.get("id"))))
    new_reward = f"rewards[{len(document.get('rewards') or [])}]"
    result.append(Group("New reward", new_reward, inputs_of(cs.RewardSchema(), {}, new_reward), new=True))
    rules = (document.get("earn") or {}).get("rules") or []
    for i, rule in enumerate(rules):
        path = f"earn.rules[{i}]"
        schema = cs.RULE_TYPES.get(str(rule.get("type")), cs.RuleSchema)()
        detail = f"{rule.get('id')} ({rule.get('type')})"
        result.append(Group("Rule", path, inputs_of(schema, rule, path, skip=_SKIPPED), removable=True, detail=detail))
    new_rule = f"earn.rules[{len(rules)}]"
    campaign = inputs_of(cs.CampaignRuleSchema(), {"type": "campaign"}, new_rule, skip=("type",))
    result.append(Group("New campaign", new_rule, campaign, new=True))
    referrals = inputs_of(cs.ReferralsSchema(), document.get("referrals", {}), "referrals")
    friend = document.get("referrals", {}).get("friend_reward", {})
    referrals += inputs_of(cs.FriendRewardSchema(), friend, "referrals.friend_reward")
    result.append(Group("Referrals", "referrals", referrals))
    return result


# -- the form, back into a document ------------------------------------------------------------------------------
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_tokens(path: str) -> list[str | int]:
    """``rewards[1].title`` → ``["rewards", 1, "title"]``."""
    return [int(index) if index else name for name, index in _TOKEN.findall(path)]


def _set(document: Any, path: str, value: Any) -> None:
    tokens = path_tokens(path)
    node = document
    for token, following in itertools.pairwise(tokens):
        if isinstance(token, int):
            while len(node) <= token:
                node.append({})
            node = node[token]
        else:
            if node.get(token) is None:
                node[token] = [] if isinstance(following, int) else {}
            node = node[token]
    last = tokens[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append({})
    node[last] = value


def _get(document: Any, path: str) -> Any:
    node = document
    for token in path_tokens(path):
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _typed(kind: str, raw: str) -> Any:
    """The form's text as the document holds it; what does not parse is left as text for the schema to refuse with
    its own message (and path)."""
    text = raw.strip()
    if text == "":
        return None
    if kind == "integer" and re.fullmatch(r"-?\d{1,18}", text):  # longer: left as text, refused by the schema
        return int(text)
    return text


def document_from_form(base: Mapping[str, Any], form: MultiDict[str, str]) -> dict[str, Any]:
    """``base`` with the form's values: every drawn input set, removed items dropped, a new reward or campaign added
    when its id is filled in. Keys the form left empty return to their default."""
    document = copy.deepcopy(dict(base))
    drawn = groups(document)
    for group in drawn:
        if group.new and not form.get(f"{group.path}.id", "").strip():
            continue  # the blank item was left blank
        if group.new:
            _set(document, f"{group.path}.id", form[f"{group.path}.id"].strip())
            if group.path.startswith("earn.rules"):
                _set(document, f"{group.path}.type", "campaign")
            else:
                _set(document, f"{group.path}.type", form.get(f"{group.path}.type", "fixed_cart"))
        for item in group.inputs:
            if item.key in _SKIPPED and not group.new:
                continue
            if item.key == "type" and group.new:
                continue
            _set(document, item.path, _value(item, form, _get(base, item.path)))
    _drop_none(document)
    for group in reversed([g for g in drawn if g.removable and form.get(f"remove:{g.path}")]):
        tokens = path_tokens(group.path)
        parent = _get(document, ".".join(str(t) for t in tokens[:-1])) if len(tokens) > 1 else document
        index = tokens[-1]
        if isinstance(parent, list) and isinstance(index, int) and index < len(parent):
            del parent[index]
    return document


def _value(item: Input, form: MultiDict[str, str], before: Any) -> Any:
    if item.kind == "flag":
        return item.path in form
    raw = form.get(item.path, "")
    if item.kind != "shopper_text":
        return _typed(item.kind, raw)
    default, second = raw.strip(), form.get(f"{item.path}@{SECOND_LOCALE}", "").strip()
    others = dict(before) if isinstance(before, Mapping) else {}
    if not second and not others:
        return default or None
    texts = {**others, "en": default} if default else dict(others)
    if second:
        texts[SECOND_LOCALE] = second
    else:
        texts.pop(SECOND_LOCALE, None)
    return texts or None


def _drop_none(node: Any) -> None:
    """Keys the form left empty go: the schema's default applies, as if the YAML did not name them."""
    if isinstance(node, dict):
        for key in [k for k, v in node.items() if v is None]:
            del node[key]
        for value in node.values():
            _drop_none(value)
    elif isinstance(node, list):
        for value in node:
            _drop_none(value)


def error_path(key: str) -> str:
    """A ``ConfigError``'s key as a form path: ``program.rewards[1].points`` → ``rewards[1].points``."""
    return key.removeprefix("program.").removeprefix("program")


def all_inputs(drawn: Sequence[Group]) -> Iterator[Input]:
    for group in drawn:
        yield from group.inputs
