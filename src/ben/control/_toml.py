"""Loading a TOML file into a pydantic model, errors naming the file and the field."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from ben.core.config import read_toml, validation_error


def load_model(path: Path, model: type[BaseModel], what: str) -> BaseModel:
    raw = read_toml(Path(path), what)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, str(path), model) from None
