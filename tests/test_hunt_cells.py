"""The hunt's compiled cell builders (converters.engine.fastcells) against the rows they stand
for: ``BulkEngine.cells`` of every row ``RecordFormat.rows_for`` gives under the columns'
keep (the row builders are the reference, unchanged), cell for cell, and the same failure
when the rows fail. Records are made up with the odd shapes a log may hold: dotted keys,
wrong types, lists for objects, repeated parameter names, other Mappings, several events,
nested messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from converters.engine.adapters import RecordFormatError, keep_of
from converters.engine.bulk import BulkEngine
from converters.engine.cells import cells_of
from converters.engine.formats import UAL
from converters.engine.gws import GWS
from converters.engine.rowtools import Inspected, RecordFormat

ENGINE = ("timestamp", "dac_source", "dac_event_id")
# The hunt's columns per source (converters.hunt.run._Loader.columns, every rule selected).
HUNT = {
    "gws_gmail": ("event_info.mail_event_type", "email", "message_info.source.address"),
    "gws_login": ("event.name", "actor.email", "ipAddress"),
    "gws_admin": (
        "event.name",
        "actor.email",
        "ipAddress",
        "parameters.USER_EMAIL",
        "parameters.NEW_VALUE",
        "parameters.BULK_UPLOAD_TOTAL_USERS_NUMBER",
    ),
    "m365_audit": (
        "Operation",
        "Workload",
        "UserId",
        "ObjectId",
        "ClientIP",
        "Parameters.Identity",
        "Parameters.ForwardingSmtpAddress",
        "Parameters.ForwardingAddress",
        "Parameters.ForwardTo",
        "Parameters.RedirectTo",
        "Parameters.ForwardAsAttachmentTo",
    ),
}
# Other columns a rule may read, and names that collide with them.
EXTRA = (
    "event.type",
    "id.applicationName",
    "actor.callerType",
    "parameters.login_type",
    "parameters.is_suspicious",
    "parameters.a.b",
    "message_info.destination.address",
    "message_info.subject",
    "event_name",
    "ip_address",
    "a.b.c",
    "actor",
    "ResultStatus",
    "Parameters.Name",
)

_SCALAR = (
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-2, 2) | st.text("ab.", max_size=3)
)
_VALUE = st.recursive(
    _SCALAR | st.sampled_from(["u@example.com", "198.51.100.7"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["email", "address", "a", "b.c", "x"]), inner, max_size=3)
        # another Mapping as a value: the rows fail where they make it a string
        | st.dictionaries(st.just("a"), inner, max_size=1).map(MappingProxyType)
    ),
    max_leaves=6,
)


def _odd(strategy: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """Mostly a plain dict; sometimes another Mapping, a list of it, or no object at all."""
    return st.one_of(
        strategy,
        strategy,
        strategy,
        strategy.map(MappingProxyType),
        st.lists(strategy, min_size=1, max_size=2),
        _SCALAR,
    )


# Odd parameter names: a prefix of a read one, dotted, empty, an engine column, not a string.
_ODD_NAMES = st.sampled_from(
    ["login_t", "a", "", "timestamp", "destination", "source.address", None, 5, True]
)
_KINDS = st.sampled_from(
    [
        *("value", "intValue", "boolValue", "multiValue", "multiIntValue"),
        *("messageValue", "multiMessageValue"),
    ]
)


def _parameter(
    names: list[str], nested: st.SearchStrategy[list[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """A Reports API parameter: mostly one of ``names`` with one typed value."""
    value = st.one_of(
        _VALUE,
        st.lists(_SCALAR, max_size=3),
        nested.map(lambda parameters: {"parameter": parameters}),
        st.lists(nested.map(lambda parameters: {"parameter": parameters}), max_size=2),
    )
    return st.builds(
        lambda name, values, extra: {"name": name, **values, **extra},
        st.sampled_from(names) | _ODD_NAMES,
        st.builds(lambda kind, found: {kind: found}, _KINDS, value)
        | st.dictionaries(_KINDS, value, max_size=2),
        st.dictionaries(st.sampled_from(["type", "x"]), _SCALAR, max_size=1),
    )


_NONE: st.SearchStrategy[list[Any]] = st.just([])


def _parameters(
    names: list[str], nested: st.SearchStrategy[list[Any]] = _NONE
) -> st.SearchStrategy[list[Any]]:
    return st.lists(_parameter(names, nested) | _SCALAR, min_size=1, max_size=4)


def _message(name: str, parameters: st.SearchStrategy[list[Any]]) -> st.SearchStrategy[Any]:
    """A parameter holding a message, as Gmail's; sometimes a list of them."""
    return st.one_of(
        parameters.map(lambda found: {"name": name, "messageValue": {"parameter": found}}),
        st.lists(parameters.map(lambda found: {"parameter": found}), max_size=2).map(
            lambda found: {"name": name, "multiMessageValue": found}
        ),
    )


# Each application's parameters, the names the hunt reads mostly, nested as Gmail nests
# them (event_info.mail_event_type, message_info.source.address, a destination list).
_READ = {
    "admin": ["USER_EMAIL", "NEW_VALUE", "BULK_UPLOAD_TOTAL_USERS_NUMBER", "USER"],
    "login": ["login_type", "is_suspicious", "a.b", "a"],
}
_READ["drive"] = _READ["login"]
_GMAIL = st.lists(
    st.one_of(
        _message("event_info", _parameters(["mail_event_type"])),
        _message(
            "message_info",
            st.lists(
                _message("source", _parameters(["address"]))
                | _message("destination", _parameters(["address"]))
                | _parameter(["subject", "source.address", "source"], _NONE),
                max_size=3,
            ),
        ),
        _parameter(
            [
                *("email", "ip_address", "event_name", "event_info.mail_event_type"),
                *("message_info.source.address", "event_info", "message_info"),
            ],
            _parameters(["mail_event_type", "source", "address"]),
        ),
    ),
    min_size=1,
    max_size=3,
)


def _event(application: str) -> st.SearchStrategy[dict[str, Any]]:
    read = _READ.get(application, [])
    parameters = _GMAIL if application == "gmail" else _parameters(read, _parameters(read))
    return st.fixed_dictionaries(
        {
            "parameters": st.one_of(
                parameters, parameters, parameters, _SCALAR, st.dictionaries(st.just("a"), _SCALAR)
            )
        },
        optional={"name": _VALUE, "type": _VALUE},
    )


_TOP = st.sampled_from(
    [
        *("actor.email", "parameters", "parameters.USER_EMAIL", "event", "event.name", "email"),
        *("ip_address", "timestamp", "dac_source", "events.x", "a.b", "a", "ipAddress", "kind"),
    ]
)


def _activity(application: str) -> st.SearchStrategy[dict[str, Any]]:
    ident = st.fixed_dictionaries(
        {
            "time": st.sampled_from(
                ["2026-11-02T00:00:08.604Z", "2026-11-02T00:00:08Z", "2026-11-02T02:00:08+02:00"]
            ),
            "applicationName": st.just(application),
        },
        optional={"uniqueQualifier": st.sampled_from(["-1000", "", 7, None])},
    )
    actor = st.fixed_dictionaries(
        {}, optional={"email": _VALUE, "callerType": _VALUE, "email.x": _VALUE, "a": _VALUE}
    )
    event = _event(application)
    return st.builds(
        lambda ident, actor, address, events, extra: {
            **extra,
            "kind": "admin#reports#activity",
            "id": ident,
            **({} if actor is ... else {"actor": actor}),
            **({} if address is ... else {"ipAddress": address}),
            "events": events,
        },
        ident,
        _odd(actor) | st.just(...),
        _VALUE | st.just(...),
        st.lists(st.one_of(event, event, event.map(MappingProxyType)), min_size=1, max_size=3),
        st.dictionaries(_TOP, _VALUE | _odd(actor), max_size=2),
    )


_UAL_NAMES = st.sampled_from(["Identity", "ForwardTo", "RedirectTo", "Forward", "X", "Name"])
_UAL_VALUES = _VALUE | st.builds(MappingProxyType, st.just({"a": 1}))
_UAL_PARAMETER = st.one_of(
    st.fixed_dictionaries({"Name": _UAL_NAMES, "Value": _UAL_VALUES}),
    st.fixed_dictionaries(
        {}, optional={"Name": _UAL_NAMES | st.sampled_from([None, 3]), "Value": _UAL_VALUES}
    ),
)
_UAL_RECORD = st.builds(
    lambda fields, parameters, extra, ident: {
        **extra,
        **fields,
        **({} if parameters is ... else {"Parameters": parameters}),
        **ident,
        "CreationTime": "2026-11-02T00:00:09",
        "RecordType": 1,
    },
    st.fixed_dictionaries(
        {"Operation": _VALUE, "Workload": _VALUE},
        optional={"UserId": _VALUE, "ObjectId": _VALUE, "ClientIP": _VALUE, "ResultStatus": _VALUE},
    ),
    st.lists(_odd(_UAL_PARAMETER), min_size=1, max_size=4)
    | st.lists(_UAL_PARAMETER, max_size=4)
    | _SCALAR
    | st.just(...),
    st.dictionaries(st.sampled_from(["Parameters.Identity", "UserId.x", "Operation.a"]), _VALUE),
    st.sampled_from([{"Id": "0-1"}, {"Id": 5}, {"Id": None}]),
)


def _outcome(build: Callable[..., list[Any]], *args: object) -> object:
    try:
        return build(*args)
    except Exception as exc:  # the failure, as the hunt reports it
        return (type(exc), str(exc))


def _columns(source: str, extra: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*ENGINE, *HUNT.get(source, HUNT["gws_login"]), *extra)))


def _check(fmt: RecordFormat, record: Mapping[str, Any], extra: list[str]) -> None:
    shaped = fmt.canonical(record)
    try:
        inspected: Inspected = fmt.inspect(shaped)
    except RecordFormatError:
        return  # the hunt skips it before building anything
    for columns in (_columns(inspected[0], []), _columns(inspected[0], extra)):
        keep = keep_of(columns)
        rows = _outcome(fmt.rows_for, shaped, inspected, keep)
        expected = (
            [BulkEngine.cells(row, columns, 3, 7) for row in rows]
            if isinstance(rows, list)
            else rows
        )
        build = cells_of(fmt, inspected[0], columns, keep)
        assert _outcome(build, shaped, inspected, 3, 7) == expected


_EXTRA = st.lists(st.sampled_from(EXTRA), max_size=4)


def _made(application: str, parameters: list[Any]) -> dict[str, Any]:
    return {
        "kind": "admin#reports#activity",
        "id": {"time": "2026-11-02T00:00:08.604Z", "applicationName": application},
        "actor": {"email": "u@example.com"},
        "events": [{"name": "n", "parameters": parameters}],
    }


# Shapes made on purpose, besides those drawn: a parameter named as a column of Gmail's
# envelope replaces it; a read name holding a message fills its children, not itself.
@example(_made("gmail", [{"name": "email", "value": "v@example.com"}]), [])
@example(_made("gmail", [{"name": "ip_address"}]), ["ip_address"])
@example(
    _made("login", [{"name": "login_type", "messageValue": {"parameter": [{"name": "x"}]}}]),
    ["parameters.login_type"],
)
@settings(max_examples=1500, deadline=None)
@given(st.one_of([_activity(a) for a in ("login", "gmail", "admin", "drive")]), _EXTRA)
def test_workspace_cells_are_the_rows_cells(activity: dict[str, Any], extra: list[str]) -> None:
    _check(GWS, activity, extra)


# A parameter whose name is a prefix of a read one ("Forward") is made, never stored: the
# rows fail on a value they cannot make a string of, and so must the cells.
@example(
    {
        "Id": "1",
        "CreationTime": "2026-11-02T00:00:09",
        "Operation": "Set-Mailbox",
        "Workload": "Exchange",
        "RecordType": 1,
        "Parameters": [{"Name": "Forward", "Value": MappingProxyType({"a": 1})}],
    },
    [],
)
@settings(max_examples=800, deadline=None)
@given(_UAL_RECORD, _EXTRA)
def test_ual_cells_are_the_rows_cells(record: dict[str, Any], extra: list[str]) -> None:
    _check(UAL, record, extra)
