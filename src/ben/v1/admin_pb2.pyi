from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Figure(_message.Message):
    __slots__ = ("name", "labels", "value", "counter", "help")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    COUNTER_FIELD_NUMBER: _ClassVar[int]
    HELP_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    value: float
    counter: bool
    help: str
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., value: _Optional[float] = ..., counter: _Optional[bool] = ..., help: _Optional[str] = ...) -> None: ...

class StatusReply(_message.Message):
    __slots__ = ("component", "id", "figures", "last_error")
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    component: str
    id: str
    figures: _containers.RepeatedCompositeFieldContainer[Figure]
    last_error: str
    def __init__(self, component: _Optional[str] = ..., id: _Optional[str] = ..., figures: _Optional[_Iterable[_Union[Figure, _Mapping]]] = ..., last_error: _Optional[str] = ...) -> None: ...

class QueryRequest(_message.Message):
    __slots__ = ("sql",)
    SQL_FIELD_NUMBER: _ClassVar[int]
    sql: str
    def __init__(self, sql: _Optional[str] = ...) -> None: ...

class QueryReply(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: bytes
    def __init__(self, json: _Optional[bytes] = ...) -> None: ...

class AcknowledgeRequest(_message.Message):
    __slots__ = ("incident_id", "by")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    by: str
    def __init__(self, incident_id: _Optional[str] = ..., by: _Optional[str] = ...) -> None: ...

class AcknowledgeReply(_message.Message):
    __slots__ = ("state", "narrative")
    STATE_FIELD_NUMBER: _ClassVar[int]
    NARRATIVE_FIELD_NUMBER: _ClassVar[int]
    state: str
    narrative: str
    def __init__(self, state: _Optional[str] = ..., narrative: _Optional[str] = ...) -> None: ...

class LabelRequest(_message.Message):
    __slots__ = ("incident_id", "label", "kind", "note", "by")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    label: str
    kind: str
    note: str
    by: str
    def __init__(self, incident_id: _Optional[str] = ..., label: _Optional[str] = ..., kind: _Optional[str] = ..., note: _Optional[str] = ..., by: _Optional[str] = ...) -> None: ...

class LabelReply(_message.Message):
    __slots__ = ("audit_seq",)
    AUDIT_SEQ_FIELD_NUMBER: _ClassVar[int]
    audit_seq: int
    def __init__(self, audit_seq: _Optional[int] = ...) -> None: ...
