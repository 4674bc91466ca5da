"""The domain-free toolkit: settings, web, network guard, queue, logs, metrics, security, embedded servers,
migrations, mail, passwords. Nothing here imports bpmlink's domain modules (tests/test_layers.py checks it)."""
