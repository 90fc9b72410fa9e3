from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KIND_UNSPECIFIED: _ClassVar[Kind]
    KIND_METRIC: _ClassVar[Kind]
    KIND_COUNTER: _ClassVar[Kind]
    KIND_EVENT: _ClassVar[Kind]
    KIND_LOG: _ClassVar[Kind]
    KIND_ALERT: _ClassVar[Kind]

class Lane(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LANE_ROUTINE: _ClassVar[Lane]
    LANE_ANOMALY: _ClassVar[Lane]
    LANE_ALERT: _ClassVar[Lane]
KIND_UNSPECIFIED: Kind
KIND_METRIC: Kind
KIND_COUNTER: Kind
KIND_EVENT: Kind
KIND_LOG: Kind
KIND_ALERT: Kind
LANE_ROUTINE: Lane
LANE_ANOMALY: Lane
LANE_ALERT: Lane

class Source(_message.Message):
    __slots__ = ("host", "subsystem", "instance")
    HOST_FIELD_NUMBER: _ClassVar[int]
    SUBSYSTEM_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    host: str
    subsystem: str
    instance: str
    def __init__(self, host: _Optional[str] = ..., subsystem: _Optional[str] = ..., instance: _Optional[str] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("source", "producer_id", "first_event_seq", "event_seqs", "strings", "ts_unix_nano", "values", "kinds", "names", "bodies", "attr_counts", "attr_keys", "attr_values", "redacted_by")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_EVENT_SEQ_FIELD_NUMBER: _ClassVar[int]
    EVENT_SEQS_FIELD_NUMBER: _ClassVar[int]
    STRINGS_FIELD_NUMBER: _ClassVar[int]
    TS_UNIX_NANO_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    BODIES_FIELD_NUMBER: _ClassVar[int]
    ATTR_COUNTS_FIELD_NUMBER: _ClassVar[int]
    ATTR_KEYS_FIELD_NUMBER: _ClassVar[int]
    ATTR_VALUES_FIELD_NUMBER: _ClassVar[int]
    REDACTED_BY_FIELD_NUMBER: _ClassVar[int]
    source: Source
    producer_id: str
    first_event_seq: int
    event_seqs: _containers.RepeatedScalarFieldContainer[int]
    strings: _containers.RepeatedScalarFieldContainer[str]
    ts_unix_nano: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    kinds: _containers.RepeatedScalarFieldContainer[Kind]
    names: _containers.RepeatedScalarFieldContainer[int]
    bodies: _containers.RepeatedScalarFieldContainer[int]
    attr_counts: _containers.RepeatedScalarFieldContainer[int]
    attr_keys: _containers.RepeatedScalarFieldContainer[int]
    attr_values: _containers.RepeatedScalarFieldContainer[int]
    redacted_by: str
    def __init__(self, source: _Optional[_Union[Source, _Mapping]] = ..., producer_id: _Optional[str] = ..., first_event_seq: _Optional[int] = ..., event_seqs: _Optional[_Iterable[int]] = ..., strings: _Optional[_Iterable[str]] = ..., ts_unix_nano: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ..., kinds: _Optional[_Iterable[_Union[Kind, str]]] = ..., names: _Optional[_Iterable[int]] = ..., bodies: _Optional[_Iterable[int]] = ..., attr_counts: _Optional[_Iterable[int]] = ..., attr_keys: _Optional[_Iterable[int]] = ..., attr_values: _Optional[_Iterable[int]] = ..., redacted_by: _Optional[str] = ...) -> None: ...

class IngestRequest(_message.Message):
    __slots__ = ("sender_id", "first_seq", "last_seq", "batch", "lane", "producer_counts")
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    LANE_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_COUNTS_FIELD_NUMBER: _ClassVar[int]
    sender_id: str
    first_seq: int
    last_seq: int
    batch: Batch
    lane: Lane
    producer_counts: ProducerCounts
    def __init__(self, sender_id: _Optional[str] = ..., first_seq: _Optional[int] = ..., last_seq: _Optional[int] = ..., batch: _Optional[_Union[Batch, _Mapping]] = ..., lane: _Optional[_Union[Lane, str]] = ..., producer_counts: _Optional[_Union[ProducerCounts, _Mapping]] = ...) -> None: ...

class ProducerCounts(_message.Message):
    __slots__ = ("dropped_full", "dropped_closed", "invalid", "truncated", "replaced_strings", "quarantined", "rejected")
    DROPPED_FULL_FIELD_NUMBER: _ClassVar[int]
    DROPPED_CLOSED_FIELD_NUMBER: _ClassVar[int]
    INVALID_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    REPLACED_STRINGS_FIELD_NUMBER: _ClassVar[int]
    QUARANTINED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    dropped_full: int
    dropped_closed: int
    invalid: int
    truncated: int
    replaced_strings: int
    quarantined: int
    rejected: int
    def __init__(self, dropped_full: _Optional[int] = ..., dropped_closed: _Optional[int] = ..., invalid: _Optional[int] = ..., truncated: _Optional[int] = ..., replaced_strings: _Optional[int] = ..., quarantined: _Optional[int] = ..., rejected: _Optional[int] = ...) -> None: ...

class IngestAck(_message.Message):
    __slots__ = ("durable_seq", "error", "lane", "retry_after_ms", "credit_bytes")
    DURABLE_SEQ_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LANE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    CREDIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    durable_seq: int
    error: str
    lane: Lane
    retry_after_ms: int
    credit_bytes: int
    def __init__(self, durable_seq: _Optional[int] = ..., error: _Optional[str] = ..., lane: _Optional[_Union[Lane, str]] = ..., retry_after_ms: _Optional[int] = ..., credit_bytes: _Optional[int] = ...) -> None: ...
