"""Adapters: the ports implemented on real technology. SDKs and drivers live only here."""
