from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Signed(_message.Message):
    __slots__ = ("body", "signature")
    BODY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    signature: bytes
    def __init__(self, body: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class SidecarHello(_message.Message):
    __slots__ = ("sidecar_id", "public_key", "targets", "proof", "kill_switch")
    SIDECAR_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_FIELD_NUMBER: _ClassVar[int]
    sidecar_id: str
    public_key: str
    targets: _containers.RepeatedScalarFieldContainer[str]
    proof: bytes
    kill_switch: Signed
    def __init__(self, sidecar_id: _Optional[str] = ..., public_key: _Optional[str] = ..., targets: _Optional[_Iterable[str]] = ..., proof: _Optional[bytes] = ..., kill_switch: _Optional[_Union[Signed, _Mapping]] = ...) -> None: ...

class KillSwitchAck(_message.Message):
    __slots__ = ("order_hash", "taken", "code", "reason", "held")
    ORDER_HASH_FIELD_NUMBER: _ClassVar[int]
    TAKEN_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    order_hash: str
    taken: bool
    code: str
    reason: str
    held: Signed
    def __init__(self, order_hash: _Optional[str] = ..., taken: _Optional[bool] = ..., code: _Optional[str] = ..., reason: _Optional[str] = ..., held: _Optional[_Union[Signed, _Mapping]] = ...) -> None: ...

class Targets(_message.Message):
    __slots__ = ("targets",)
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    targets: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, targets: _Optional[_Iterable[str]] = ...) -> None: ...

class SidecarUp(_message.Message):
    __slots__ = ("hello", "targets", "receipt", "kill_ack")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    KILL_ACK_FIELD_NUMBER: _ClassVar[int]
    hello: SidecarHello
    targets: Targets
    receipt: Signed
    kill_ack: KillSwitchAck
    def __init__(self, hello: _Optional[_Union[SidecarHello, _Mapping]] = ..., targets: _Optional[_Union[Targets, _Mapping]] = ..., receipt: _Optional[_Union[Signed, _Mapping]] = ..., kill_ack: _Optional[_Union[KillSwitchAck, _Mapping]] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("envelope", "approvals", "kill_switch", "challenge")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    APPROVALS_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    envelope: Signed
    approvals: _containers.RepeatedCompositeFieldContainer[Signed]
    kill_switch: Signed
    challenge: bytes
    def __init__(self, envelope: _Optional[_Union[Signed, _Mapping]] = ..., approvals: _Optional[_Iterable[_Union[Signed, _Mapping]]] = ..., kill_switch: _Optional[_Union[Signed, _Mapping]] = ..., challenge: _Optional[bytes] = ...) -> None: ...

class Register(_message.Message):
    __slots__ = ("subsystem", "actions", "instance")
    SUBSYSTEM_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    subsystem: str
    actions: _containers.RepeatedScalarFieldContainer[str]
    instance: str
    def __init__(self, subsystem: _Optional[str] = ..., actions: _Optional[_Iterable[str]] = ..., instance: _Optional[str] = ...) -> None: ...

class CommandResult(_message.Message):
    __slots__ = ("command_id", "ok", "result_json", "error")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    ok: bool
    result_json: str
    error: str
    def __init__(self, command_id: _Optional[str] = ..., ok: _Optional[bool] = ..., result_json: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class SubsystemUp(_message.Message):
    __slots__ = ("register", "result")
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    register: Register
    result: CommandResult
    def __init__(self, register: _Optional[_Union[Register, _Mapping]] = ..., result: _Optional[_Union[CommandResult, _Mapping]] = ...) -> None: ...

class CommandToRun(_message.Message):
    __slots__ = ("command_id", "action", "target", "params_json", "reason", "incident_id", "issuer")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    action: str
    target: str
    params_json: str
    reason: str
    incident_id: str
    issuer: str
    def __init__(self, command_id: _Optional[str] = ..., action: _Optional[str] = ..., target: _Optional[str] = ..., params_json: _Optional[str] = ..., reason: _Optional[str] = ..., incident_id: _Optional[str] = ..., issuer: _Optional[str] = ...) -> None: ...

class SendRequest(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: Signed
    def __init__(self, envelope: _Optional[_Union[Signed, _Mapping]] = ...) -> None: ...

class DecideRequest(_message.Message):
    __slots__ = ("approval",)
    APPROVAL_FIELD_NUMBER: _ClassVar[int]
    approval: Signed
    def __init__(self, approval: _Optional[_Union[Signed, _Mapping]] = ...) -> None: ...

class KillSwitchRequest(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Signed
    def __init__(self, order: _Optional[_Union[Signed, _Mapping]] = ...) -> None: ...

class CommandReply(_message.Message):
    __slots__ = ("command_id", "state", "reason", "record_json")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RECORD_JSON_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    state: str
    reason: str
    record_json: str
    def __init__(self, command_id: _Optional[str] = ..., state: _Optional[str] = ..., reason: _Optional[str] = ..., record_json: _Optional[str] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("limit", "state", "command_id")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    limit: int
    state: str
    command_id: str
    def __init__(self, limit: _Optional[int] = ..., state: _Optional[str] = ..., command_id: _Optional[str] = ...) -> None: ...

class ListReply(_message.Message):
    __slots__ = ("records_json",)
    RECORDS_JSON_FIELD_NUMBER: _ClassVar[int]
    records_json: str
    def __init__(self, records_json: _Optional[str] = ...) -> None: ...

class RedeliverRequest(_message.Message):
    __slots__ = ("command_id",)
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    def __init__(self, command_id: _Optional[str] = ...) -> None: ...

class AuditRequest(_message.Message):
    __slots__ = ("after", "log")
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    after: int
    log: str
    def __init__(self, after: _Optional[int] = ..., log: _Optional[str] = ...) -> None: ...

class RecordRequest(_message.Message):
    __slots__ = ("kind", "subject", "body_json")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    kind: str
    subject: str
    body_json: str
    def __init__(self, kind: _Optional[str] = ..., subject: _Optional[str] = ..., body_json: _Optional[str] = ...) -> None: ...

class AuditReply(_message.Message):
    __slots__ = ("ok", "problems", "report_json")
    OK_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    REPORT_JSON_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    problems: _containers.RepeatedScalarFieldContainer[str]
    report_json: str
    def __init__(self, ok: _Optional[bool] = ..., problems: _Optional[_Iterable[str]] = ..., report_json: _Optional[str] = ...) -> None: ...
