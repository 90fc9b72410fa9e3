"""[spine.federation] in the config file: paths relative to the file, bad values named."""

from __future__ import annotations

import pytest

from ben.core.config import load_config
from ben.core.errors import ConfigError


def test_federation_block_is_read_with_paths_relative_to_the_file(tmp_path):
    path = tmp_path / "ben.toml"
    path.write_text('[spine.federation]\nenabled = true\nservers = ["nats://10.0.0.5:4222"]\ncluster = "eu-1"\n'
                    'policy = "federation.toml"\ntrust = "peers.toml"\n')
    fed = load_config(path).spine.federation
    assert fed.enabled and fed.cluster == "eu-1" and fed.servers == ["nats://10.0.0.5:4222"]
    assert fed.policy == tmp_path / "federation.toml" and fed.trust == tmp_path / "peers.toml"
    assert not load_config(None).spine.federation.enabled  # off by default


@pytest.mark.parametrize("text, field", [('cluster = "eu 1"\n', "cluster"),
                                         ("dedup_window_s = 900000\nmax_age_s = 86400\n", "dedup_window_s"),
                                         ('servers = "nats://x"\n', "servers")])
def test_bad_federation_options_are_named(tmp_path, text, field):
    path = tmp_path / "ben.toml"
    path.write_text("[spine.federation]\n" + text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and field in str(err.value)
