"""Whether a message type's new JSON Schema may replace its old one under the same version number.

A version's schema is read from both sides at once: consumers already upgraded
read messages the previous release queued, retried or parked (nothing upcasts
them: they have the same version), and consumers not yet upgraded read what
upgraded producers write. So the set of payloads a version accepts may not
change in either direction; the one exception is a field that is new and
optional, because consumers read tolerantly (unknown fields are ignored, see
docs/messages.md) and an older message without it gets its default.

Breaking, each reported as one readable line:

- a field removed (even an optional one: a consumer may rely on it);
- a new required field, an optional field become required, a required one
  become optional (a consumer on the old schema refuses the message without it);
- a type changed, at any depth: records (``$ref`` into ``$defs``), array
  items, mapping values; a union (``anyOf``, nullability included) losing or
  gaining a member;
- a constraint changed either way: ``maxLength`` lowered refuses old messages,
  raised lets producers write what old consumers refuse; likewise an enum (a
  ``Literal``) losing a value or gaining one, a pattern or a bound changed.

Not changes: titles, descriptions, examples, defaults, the order of fields,
a record's name in ``$defs``, and ``additionalProperties: false`` (pydantic's
``extra="forbid"``), which says how a reader treats unknown fields, not what a
message holds. Any other keyword is compared as it is, so a change this module
does not understand is reported rather than let through.
"""

from __future__ import annotations

from typing import Any, Iterator

Schema = dict[str, Any]

#: Words for people, not constraints on a message.
_ANNOTATIONS = frozenset({"title", "description", "examples", "default", "$comment", "deprecated", "readOnly",
                          "writeOnly"})
#: Keywords compared by their meaning below rather than as plain values. A discriminator names the union's
#: members, which are compared themselves.
_STRUCTURE = frozenset({"type", "format", "properties", "required", "items", "additionalProperties", "anyOf",
                        "oneOf", "allOf", "$ref", "$defs", "enum", "const", "discriminator", "$record"})
_LOWER_BOUNDS = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"})
_UPPER_BOUNDS = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"})

_REFUSES_OLD = "messages valid before are refused"
_OLD_READERS_REFUSE = "consumers on the old schema would refuse the new messages"


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every way ``new`` cannot stand in for ``old`` under the same version; empty when it can."""
    return list(_Comparison(old, new).schemas(old, new, ""))


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema):
        self.old_defs = old_root.get("$defs", {})
        self.new_defs = new_root.get("$defs", {})
        #: pairs of records being compared: a record that contains itself is compared once
        self.entered: set[tuple[str | None, str | None]] = set()

    def schemas(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        yield from self._union(_resolve(old, self.old_defs), _resolve(new, self.new_defs), path)

    def _union(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        old_members, new_members = _members(old, self.old_defs), _members(new, self.new_defs)
        pairs, lost, gained = _pair(old_members, new_members)
        if lost or gained:
            yield (f"{_field(path)} changed type {' | '.join(map(_describe, old_members))}"
                   f" -> {' | '.join(map(_describe, new_members))}")
        if _is_union(old) and _is_union(new):
            yield from _keywords(_outside(old), _outside(new), path)
        records = sum(1 for member, _ in pairs if member.get("type") == "object")
        for old_member, new_member in pairs:
            inner = f"{path}<{old_member['$record']}>" if records > 1 and "$record" in old_member else path
            yield from self._member(old_member, new_member, inner)

    def _member(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        records = (old.get("$record"), new.get("$record"))
        if records in self.entered:
            return
        if records != (None, None):
            self.entered.add(records)
        try:
            yield from self._value(old, new, path)
        finally:
            self.entered.discard(records)

    def _value(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        yield from _keywords(old, new, path)
        if "properties" in old or "properties" in new:
            yield from self._record(old, new, path)
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            yield from self.schemas(old["items"], new["items"], f"{path}[]")
        if isinstance(old.get("additionalProperties"), dict) and isinstance(new.get("additionalProperties"), dict):
            yield from self.schemas(old["additionalProperties"], new["additionalProperties"], f"{path}{{}}")

    def _record(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(old_fields.keys() | new_fields.keys()):
            where = f"{path}.{name}" if path else name
            if name not in new_fields:
                yield f"field {where} removed"
            elif name not in old_fields:
                if name in new_required:
                    yield f"new required field {where}"
            else:
                if name in new_required - old_required:
                    yield f"field {where} became required ({_REFUSES_OLD} without it)"
                elif name in old_required - new_required:
                    yield f"field {where} became optional ({_OLD_READERS_REFUSE} without it)"
                yield from self.schemas(old_fields[name], new_fields[name], where)


def _resolve(schema: Schema, defs: Schema) -> Schema:
    """The schema with its ``$ref`` (or a one-member ``allOf``) replaced by what it points to; a record keeps its
    name in ``$record``, to be named in messages and matched within a union."""
    while True:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            beside = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**defs[name], **beside, "$record": name}
        elif isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            beside = {key: value for key, value in schema.items() if key != "allOf"}
            schema = {**schema["allOf"][0], **beside}
        else:
            return schema


def _members(schema: Schema, defs: Schema) -> list[Schema]:
    """The alternatives a value may take, each one a schema without a union: ``int | None`` is two."""
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return [member for branch in branches for member in _members(_resolve(branch, defs), defs)]
    if "const" in schema:  # a Literal of one value is an enum of one
        schema = {**{key: value for key, value in schema.items() if key != "const"}, "enum": [schema["const"]]}
    if isinstance(schema.get("type"), list):
        return [{**schema, "type": kind} for kind in schema["type"]]
    return [schema]


def _is_union(schema: Schema) -> bool:
    return bool(schema.get("anyOf") or schema.get("oneOf"))


def _outside(union: Schema) -> Schema:
    return {key: value for key, value in union.items() if key not in ("anyOf", "oneOf")}


def _kind(schema: Schema) -> str:
    """What must stay the same for two union members to be the same member."""
    kind = schema.get("type", "any")
    if kind == "object" and "$record" in schema:
        return f"record {schema['$record']}"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _pair(old: list[Schema], new: list[Schema]) -> tuple[list[tuple[Schema, Schema]], list[Schema], list[Schema]]:
    """The members of both unions matched by kind, then what only the old one has, and only the new one."""
    unmatched = list(new)
    pairs, lost = [], []
    for member in old:
        match = next((candidate for candidate in unmatched if _kind(candidate) == _kind(member)), None)
        if match is None:
            lost.append(member)
        else:
            unmatched.remove(match)
            pairs.append((member, match))
    old_records = [member for member in lost if member.get("type") == "object"]
    new_records = [member for member in unmatched if member.get("type") == "object"]
    if len(old_records) == 1 and len(new_records) == 1:  # one record renamed in $defs: still the same record
        pairs.append((old_records[0], new_records[0]))
        lost.remove(old_records[0])
        unmatched.remove(new_records[0])
    return pairs, lost, unmatched


def _describe(schema: Schema) -> str:
    if "$record" in schema:
        return schema["$record"]
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return f"array of {schema['items'].get('$ref', '').rsplit('/', 1)[-1] or _describe(schema['items'])}"
    return _kind(schema)


def _keywords(old: Schema, new: Schema, path: str) -> Iterator[str]:
    """The value constraints (bounds, lengths, patterns, enums …) that differ."""
    if old.get("enum") != new.get("enum"):
        yield from _enum(old.get("enum"), new.get("enum"), path)
    for keyword in sorted((old.keys() | new.keys()) - _ANNOTATIONS - _STRUCTURE):
        before, after = old.get(keyword), new.get(keyword)
        if before == after:
            continue
        if before is None:
            yield f"{_field(path)}: {keyword} {after!r} added ({_REFUSES_OLD})"
        elif after is None:
            yield f"{_field(path)}: {keyword} {before!r} removed ({_OLD_READERS_REFUSE})"
        elif keyword in _LOWER_BOUNDS | _UPPER_BOUNDS:
            tighter = (after > before) == (keyword in _LOWER_BOUNDS)
            moved = "raised" if after > before else "lowered"
            yield (f"{_field(path)}: {keyword} {moved} {before!r} -> {after!r}"
                   f" ({_REFUSES_OLD if tighter else _OLD_READERS_REFUSE})")
        else:
            yield f"{_field(path)}: {keyword} changed {before!r} -> {after!r}"


def _enum(old: list | None, new: list | None, path: str) -> Iterator[str]:
    if new is None:
        yield f"{_field(path)} now takes any value, not only {_values(old)} ({_OLD_READERS_REFUSE})"
    elif old is None:
        yield f"{_field(path)} now takes only {_values(new)} ({_REFUSES_OLD})"
    else:
        lost = [value for value in old if value not in new]
        gained = [value for value in new if value not in old]
        if lost:
            yield f"{_field(path)} no longer takes {_values(lost)} ({_REFUSES_OLD})"
        if gained:
            yield f"{_field(path)} now also takes {_values(gained)} ({_OLD_READERS_REFUSE})"


def _values(values: list) -> str:
    return ", ".join(map(repr, values))


def _field(path: str) -> str:
    return f"field {path}" if path else "the message"
