"""Loading a TOML file into a pydantic model, errors naming the file and the field."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from ben.core.config import ben_config_given, read_toml, validation_error
from ben.core.errors import ConfigError


def load_model(path: Path, model: type[BaseModel], what: str) -> BaseModel:
    raw = read_toml(Path(path), what)
    if other := ben_config_given(raw, what):  # was "field 'spine': unknown field"
        raise ConfigError(other, source=str(path))
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, str(path), model) from None
