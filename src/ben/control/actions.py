"""Built-in actions and their typed parameters: ``set_mode``, ``throttle_job``, ``quarantine_artifact``.

Any other action name is a custom action: its parameters are strings, integers or booleans,
passed through as given. ``typed_params`` validates (and for built-ins converts: "5" -> 5) and
raises ``PolicyError(reason="bad_params")`` naming the parameter.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ben.core.errors import PolicyError


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_as_number(cls, data):
        """``true`` is not an integer here (pydantic's lax mode would take it as 1)."""
        if isinstance(data, dict):
            for name, value in data.items():
                info = cls.model_fields.get(name)
                if isinstance(value, bool) and info is not None and info.annotation is not bool:
                    raise ValueError(f"parameter {name!r}: a boolean is not a number")
        return data


class SetMode(_Params):
    """Switch the subsystem's operating mode."""

    mode: Literal["normal", "degraded", "read_only", "maintenance"]


class ThrottleJob(_Params):
    """Limit a job to ``rate_per_s`` runs (or items) per second for ``duration_s`` (0 = until changed)."""

    job: str = Field(min_length=1, max_length=256)
    rate_per_s: int = Field(ge=0)
    duration_s: int = Field(default=600, ge=0)


class QuarantineArtifact(_Params):
    """Stop using an artifact (a build, a model, a config) until a human releases it."""

    artifact: str = Field(min_length=1, max_length=512)
    digest: str = Field(default="", max_length=128)


BUILTIN: dict[str, type[_Params]] = {"set_mode": SetMode, "throttle_job": ThrottleJob,
                                     "quarantine_artifact": QuarantineArtifact}


def typed_params(action: str, params: dict) -> _Params | dict:
    """A built-in action's parameters as their model; a custom action's as the dict itself."""
    model = BUILTIN.get(action)
    if model is None:
        return dict(params)
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "params"
        msg = "unknown parameter" if err["type"] == "extra_forbidden" else err["msg"]
        if err["type"] == "value_error":  # our own check: its message names the parameter
            raise PolicyError(f"{action}: {msg.removeprefix('Value error, ')}", reason="bad_params") from None
        raise PolicyError(f"{action}: parameter {name!r}: {msg}", reason="bad_params") from None


def coerce_params(action: str, raw: dict[str, str]) -> dict:
    """Parameters given as text (``--param k=v``) -> what is signed: built-ins typed, custom as strings."""
    typed = typed_params(action, raw)
    return typed.model_dump() if isinstance(typed, BaseModel) else dict(raw)
